{# Band of a 0-100 health score from the cut-offs in seed_health_parameters (Permen 14/2009 bands). #}
{% macro health_band(score, cutoffs) -%}
    case
        when {{ score }} is null then null
        when {{ score }} >= {{ cutoffs }}.band_sehat_min then 'Sehat'
        when {{ score }} >= {{ cutoffs }}.band_cukup_sehat_min then 'Cukup Sehat'
        when {{ score }} >= {{ cutoffs }}.band_dalam_pengawasan_min then 'Dalam Pengawasan'
        else 'Dalam Pengawasan Khusus'
    end
{%- endmacro %}

{# x / y, or null when y is zero or null: a ratio that cannot be computed is missing, not infinite. #}
{% macro safe_ratio(numerator, denominator) -%}
    case when {{ denominator }} is null or {{ denominator }} = 0 then null
         else cast({{ numerator }} as double) / {{ denominator }} end
{%- endmacro %}
