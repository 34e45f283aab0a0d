{{ config(materialized='table', schema='published') }}
-- The published score decomposition (BRIEF §6): the candidate that passed the quality gate.
select * from {{ ref('candidate_park_scores') }}
