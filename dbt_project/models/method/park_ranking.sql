{{ config(materialized='table', schema='published') }}
-- The published ranking (BRIEF §6): the candidate that passed the quality gate.
select * from {{ ref('candidate_park_ranking') }}
