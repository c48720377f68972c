"""Imports the dashboards of bi/assets into Superset, overwriting what an earlier import made (run by launch.py
with the rendered bundle folder and the admin's name). Superset's `import-dashboards` command leaves existing
charts and datasets as they were, so a changed chart in git would never reach Superset: the datasets, charts and
dashboards are imported here each with overwrite, then every dataset's columns are refreshed from the database
(the datasets follow the marts' contracts without listing every column; labelled columns keep their labels)."""

import sys
from pathlib import Path

from superset.app import create_app

bundle, username = Path(sys.argv[1]), sys.argv[2]
app = create_app()
with app.app_context():
    from superset import security_manager
    from superset.commands.chart.importers.v1 import ImportChartsCommand
    from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
    from superset.commands.database.importers.v1 import ImportDatabasesCommand
    from superset.commands.dataset.importers.v1 import ImportDatasetsCommand
    from superset.connectors.sqla.models import SqlaTable
    from superset.extensions import db
    from superset.utils.core import override_user

    contents = {str(p.relative_to(bundle)): p.read_text(encoding="utf-8") for p in sorted(bundle.rglob("*.yaml"))}
    with override_user(security_manager.find_user(username=username)):
        for command in (ImportDatabasesCommand, ImportDatasetsCommand, ImportChartsCommand, ImportDashboardsCommand):
            command(contents, overwrite=True).run()
        for dataset in db.session.query(SqlaTable).all():
            dataset.fetch_metadata()
        db.session.commit()
