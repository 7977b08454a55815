{#- Fails on every non-null value that is not an E.164 phone number. -#}
{% test is_e164(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and not {{ cod360.regex_full_match(column_name, '[+][1-9][0-9]{7,14}') }}
{% endtest %}
