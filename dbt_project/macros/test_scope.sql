{#
  Data tests on the snapshot tables test the snapshots this dbt invocation rebuilt, not all history.
  A model built with snapshot_incremental_config() (meta.replaces_whole_snapshots) replaces whole snapshots
  and stamps every row it writes
  with built_at = this invocation's start, so `built_at = build_timestamp()` is exactly the rebuilt
  snapshots: the others were tested when they were built and have not changed since. A full refresh rebuilds
  (and so tests) everything. KOPERASI_DBT_TESTS=all tests every row: the nightly schedule sets it (Dagster
  run tag koperasi/dbt_tests=all), so a change elsewhere (a region removed from a seed) is still caught.
  Overrides dbt's get_where_subquery, which every generic test applies to the model it tests.
#}
{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if execute and tests_rebuilt_snapshots_only() -%}
        {%- set rebuilt = 'built_at = ' ~ build_timestamp() -%}
        {%- set where = rebuilt ~ ' and (' ~ where ~ ')' if where else rebuilt -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro tests_rebuilt_snapshots_only() -%}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {{ return(tested is not none
              and tested.config.meta.get('replaces_whole_snapshots')
              and env_var('KOPERASI_DBT_TESTS', 'rebuilt') != 'all') }}
{%- endmacro %}
