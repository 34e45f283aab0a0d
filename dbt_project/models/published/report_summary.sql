-- The published headline figures (the public contract): the candidate that passed the quality gate.
select * from {{ ref('candidate_report_summary') }}
