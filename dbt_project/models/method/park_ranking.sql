{{ config(materialized='table', schema='published') }}
-- The published ranking (the public contract): the candidate that passed the quality gate.
select * from {{ ref('candidate_park_ranking') }}
