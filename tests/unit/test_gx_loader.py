"""GX is imported in the background; what the caller's thread also uses is imported before that starts."""

import subprocess
import sys


def test_preload_returns_with_the_shared_dependencies_imported_whole():
    """Run in a fresh interpreter: the moment preload() returns, SQLAlchemy's ORM (whose inspector Dagster's SQL
    storage calls) and pandas are fully initialised, whatever the background import of GX is doing."""
    code = ("import sys\n"
            "from expectations import gx_loader\n"
            "assert 'sqlalchemy.orm' not in sys.modules and 'pandas' not in sys.modules\n"
            "gx_loader.preload()\n"
            "from sqlalchemy.orm import exc\n"
            "import pandas\n"
            "print(exc.UnmappedClassError.__name__, pandas.DataFrame.__name__)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["UnmappedClassError", "DataFrame"]
