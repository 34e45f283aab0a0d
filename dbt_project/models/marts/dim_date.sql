-- A calendar: one row per day over the span of vars dim_date_start .. dim_date_end.
with days as (

    {{ date_spine(var('dim_date_start'), var('dim_date_end')) }}

),

final as (

    select
        cast(date_day as date) as date_day,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(quarter from date_day) as integer) as quarter_of_year,
        cast(extract(month from date_day) as integer) as month_of_year,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast({{ iso_day_of_week('date_day') }} as integer) as day_of_week_iso,
        {{ iso_day_of_week('date_day') }} >= 6 as is_weekend,
        cast(extract(month from date_day) as integer) = 12
            and cast(extract(day from date_day) as integer) = 31 as is_year_end
    from days

)

select * from final
