-- The published headline figures (BRIEF §6): the candidate that passed the quality gate.
select * from {{ ref('candidate_report_summary') }}
