{#- Fails when the model and `compare_model` do not have the same number of rows
    (e.g. a mart that must hold exactly one row per customer of another). -#}
{% test same_row_count_as(model, compare_model) %}
select model_rows, compare_rows
from (
    select
        (select count(*) from {{ model }}) as model_rows,
        (select count(*) from {{ compare_model }}) as compare_rows
) as counts
where model_rows != compare_rows
{% endtest %}
