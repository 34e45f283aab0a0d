{{ config(materialized='table', schema='published') }}
-- The published score decomposition (the public contract): the candidate that passed the quality gate.
select * from {{ ref('candidate_park_scores') }}
