"""What data stewards read and fix: the quality report and the correction workbook (Bahasa Indonesia)."""
