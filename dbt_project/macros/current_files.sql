{#
  The files the warehouse is built from: those the ingestion gate admitted (status 'loaded' in the file
  registry). Files still being checked, withdrawn, rejected or replaced by a re-export are invisible here.
  The gate keeps one loaded file per ODS snapshot, so no "latest file" rule is needed downstream.
#}
{% macro current_files() -%}
    (select sha256 from {{ source('raw', 'ingested_files') }} where status = 'loaded')
{%- endmacro %}
