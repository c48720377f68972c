{#
  Incremental models keyed on snapshot_date: a run rebuilds only the snapshots whose rows changed upstream.
  Every row carries built_at (when dbt built it); a downstream model picks the upstream rows built after its
  own newest row, and replaces those snapshots whole (delete+insert on snapshot_date), so a corrected
  re-export of a snapshot replaces it entirely. meta.replaces_whole_snapshots says so to the rest of the project:
  their data tests cover the rebuilt snapshots (test_scope.sql), a publication copies only changed snapshots.
#}
{% macro snapshot_incremental_config() -%}
    {{ config(materialized='incremental', unique_key='snapshot_date', incremental_strategy='delete+insert',
              on_schema_change='fail', meta={'replaces_whole_snapshots': true}) }}
{%- endmacro %}

{# is_incremental(), safe where `this` is undefined (unit tests render models without a target relation). #}
{% macro incremental_run() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}

{% macro changed_snapshots(upstream) -%}
    {%- if incremental_run() -%}
        (select distinct snapshot_date from {{ upstream }}
         where built_at > (select coalesce(max(built_at), timestamp '1900-01-01') from {{ this }}))
    {%- else -%}
        (select distinct snapshot_date from {{ upstream }})
    {%- endif -%}
{%- endmacro %}

{# When this dbt invocation started, as a plain timestamp: marks the rows it built. #}
{% macro build_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
