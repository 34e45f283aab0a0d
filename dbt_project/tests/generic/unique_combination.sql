{#- The grain of a model: no two rows share the values of these columns. -#}
{% test unique_combination(model, columns) %}

select {{ columns | join(', ') }}, count(*) as duplicate_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
