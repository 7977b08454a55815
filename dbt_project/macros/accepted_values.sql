{#- dbt's accepted_values test pastes each value between quotes as written, so a value
    with a quote is written SQL-escaped in the YAML ("Can''t Lose Them"). DuckDB reads
    `''` as a quote; Spark reads `'Can''t'` as two adjacent literals ('Cant'), so on Spark
    the doubled quote becomes `\'`. dbt_project.yml's `dispatch` puts this project's
    implementation before dbt's own. -#}
{% macro spark__test_accepted_values(model, column_name, values, quote=True) %}
    {%- set spark_values = [] -%}
    {%- for value in values -%}
        {%- if quote and value is string -%}
            {%- do spark_values.append(value | replace("\\", "\\\\") | replace("''", "\\'")) -%}
        {%- else -%}
            {%- do spark_values.append(value) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.default__test_accepted_values(model, column_name, spark_values, quote) }}
{% endmacro %}
