{#- Registers the Parquet copies of the raw tables as Spark tables raw.<table>, one per
    source of models/staging/__sources.yml (docs/spark.md):

        dbt run-operation register_raw_parquet --args '{root: /path/to/raw_parquet}'

    `root` defaults to the env var COD360_RAW_PARQUET_DIR, where ingestion writes every
    loaded batch as <root>/<table>/load_date=YYYY-MM-DD/<file_sha256>.parquet (columns of
    raw.<table>, the payload as JSON text). External tables: dropping one never deletes
    the files. Idempotent: re-running re-reads the folders (new load dates included). -#}
{% macro register_raw_parquet(root=none) -%}
    {%- set root = root or env_var('COD360_RAW_PARQUET_DIR', '') -%}
    {%- if not root -%}
        {{ exceptions.raise_compiler_error("register_raw_parquet: set COD360_RAW_PARQUET_DIR or pass root") }}
    {%- endif -%}
    {%- set sources = graph.sources.values() | selectattr('source_name', 'equalto', 'raw') | list -%}
    {%- do run_query('create database if not exists raw') -%}
    {%- for source in sources | sort(attribute='name') -%}
        {%- set table = source.name -%}
        {%- set schema = raw_parquet_schema(table) -%}
        {%- set partitioned = 'load_date' in schema -%}
        {%- do run_query('drop table if exists raw.' ~ table) -%}
        {%- do run_query(
            'create table raw.' ~ table ~ ' (' ~ schema ~ ') using parquet'
            ~ (' partitioned by (load_date)' if partitioned else '')
            ~ " location '" ~ root ~ '/' ~ table ~ "'"
        ) -%}
        {%- if partitioned -%}
            {%- do run_query('alter table raw.' ~ table ~ ' recover partitions') -%}
        {%- endif -%}
        {%- do log('registered raw.' ~ table ~ ' at ' ~ root ~ '/' ~ table, info=true) -%}
    {%- endfor -%}
{%- endmacro %}

{#- The columns of a raw table (as connectors/ingestion and connectors/phones create them). -#}
{% macro raw_parquet_schema(table) -%}
    {%- if table == 'phone_numbers' -%}
        {{ return('phone_raw string, default_region string, phone_e164 string, phone_is_valid boolean, '
                  ~ 'phone_region string, normalised_at timestamp') }}
    {%- elif table == 'quarantine' -%}
        {{ return('source string, source_file string, line_number int, field string, reason string, '
                  ~ 'raw_text string, file_sha256 string, quarantined_at timestamp, load_date date') }}
    {%- else -%}
        {{ return('record_id string, source_file string, line_number int, payload string, '
                  ~ 'file_sha256 string, loaded_at timestamp, load_date date') }}
    {%- endif -%}
{%- endmacro %}
