"""Words the sample data is made of: names, groups and header spellings seen in real exports."""

# One header spelling per field for each snapshot, rotating (the ODS export's headers changed over time).
ODS_HEADER_VARIANTS = (
    ("NIK", "Nama Koperasi", "No Badan Hukum", "Tgl Badan Hukum", "Kab/Kota", "Kecamatan", "Jenis Koperasi",
     "Kelompok Koperasi", "Bentuk Koperasi", "Status", "Tahun RAT", "RAT Virtual", "Anggota Pria",
     "Anggota Wanita", "Manajer", "Karyawan", "Modal Sendiri", "Modal Luar", "Aset", "Volume Usaha", "SHU",
     "Sertifikat NIK"),
    ("NIK Koperasi", "Nama", "Nomor Badan Hukum", "Tanggal Badan Hukum", "Kabupaten/Kota", "Kecamatan", "Jenis",
     "Kelompok", "Bentuk", "Status Koperasi", "RAT Terakhir", "RAT Daring", "Jumlah Anggota Pria",
     "Jumlah Anggota Wanita", "Jumlah Manajer", "Jumlah Karyawan", "Modal Sendiri", "Modal Luar", "Asset",
     "Volume Usaha", "Sisa Hasil Usaha", "Sertifikat NIK"),
    ("Nomor Induk Koperasi", "Nama Koperasi", "No. BH", "Tgl Badan Hukum", "Kabupaten Kota", "KECAMATAN",
     "Jenis Koperasi", "Kelompok Koperasi", "Bentuk Koperasi", "Status", "Tahun RAT Terakhir", "RAT Virtual",
     "Anggota Laki-laki", "Anggota Perempuan", "Manajer", "Karyawan", "Modal Sendiri", "Modal Luar",
     "Total Aset", "Volume Usaha", "SHU", "Sertifikat NIK"),
    ("NIK KOPERASI", "NAMA KOPERASI", "NO. BH", "TANGGAL BADAN HUKUM", "KAB/KOTA", "KECAMATAN", "JENIS KOPERASI",
     "KELOMPOK KOPERASI", "BENTUK KOPERASI", "STATUS KOPERASI", "TAHUN RAT TERAKHIR", "RAT DARING",
     "JUMLAH ANGGOTA PRIA", "JUMLAH ANGGOTA WANITA", "JUMLAH MANAJER", "JUMLAH KARYAWAN", "MODAL SENDIRI",
     "MODAL LUAR", "TOTAL ASET", "VOLUME USAHA", "SISA HASIL USAHA", "SERTIFIKAT NIK"),
)

# (type, share) — most cooperatives in the regencies only do savings and loans (FACTS.md).
COOPERATIVE_TYPES = (("Simpan Pinjam", 0.58), ("Konsumen", 0.20), ("Jasa", 0.09), ("Produsen", 0.09),
                     ("Pemasaran", 0.04))
# group -> (name prefix, share)
COOPERATIVE_GROUPS = (
    ("Koperasi Simpan Pinjam", "KSP", 0.30),
    ("Koperasi Credit Union", "CU", 0.08),
    ("Koperasi Unit Desa", "KUD", 0.12),
    ("Koperasi Pegawai Republik Indonesia", "KPRI", 0.14),
    ("Koperasi Karyawan", "Kopkar", 0.10),
    ("Koperasi Wanita", "Kopwan", 0.06),
    ("Koperasi Serba Usaha", "KSU", 0.15),
    ("Koperasi Pondok Pesantren", "Kopontren", 0.05),
)
NAME_WORDS = ("Maju Bersama", "Sejahtera", "Mandiri", "Harapan Baru", "Sinar Tani", "Karya Bakti", "Bina Usaha",
              "Tunas Muda", "Makmur", "Sepakat", "Rukun Damai", "Jaya Abadi", "Bersatu", "Sentosa", "Mulia",
              "Horas", "Dos Ni Roha", "Saroha", "Pardomuan", "Sada Arih", "Mitra Usaha", "Citra Niaga",
              "Amanah", "Berkah", "Pelita", "Cahaya", "Hasil Bumi", "Nelayan Sejahtera", "Sawit Makmur",
              "Karet Jaya")
DISTRICT_SUFFIXES = ("Kota", "Utara", "Selatan", "Timur", "Barat", "Tengah", "Hulu", "Hilir")

FIRST_NAMES = ("Budi", "Siti", "Ahmad", "Dewi", "Rina", "Agus", "Sri", "Hendra", "Fitri", "Rudi", "Maria",
               "Yohana", "Daniel", "Ria", "Lestari", "Bambang", "Nurhayati", "Ronald", "Sartika", "Joko",
               "Intan", "Taufik", "Desi", "Fauzi", "Yusuf", "Melati", "Rahmat", "Erna", "Samuel", "Nova")
FAMILY_NAMES = ("Siregar", "Nasution", "Lubis", "Harahap", "Simanjuntak", "Sinaga", "Hutapea", "Tarigan",
                "Ginting", "Sembiring", "Pane", "Situmorang", "Manurung", "Panjaitan", "Sitompul", "Daulay",
                "Pohan", "Batubara", "Purba", "Damanik", "Saragih", "Hasibuan", "Rangkuti", "Pulungan")
