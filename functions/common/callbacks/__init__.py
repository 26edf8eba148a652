"""The callbacks table and what it holds: a waiting task's token behind ids that links carry.

- ids: new and checked ids (the 192-bit random id in every link and callback URL).
- model: the records as others may see them (Callback, Vote, Ballot, ApprovalRequest, the story
  of a decided request): no boto3, no token.
- refusals: why a link cannot be answered now (404 / 409 / 410), one rule for pages and votes.
- table: the stores, the only reader and writer of `taskToken`.
- delivery: handing answers to waiting tasks, the only caller of SendTaskSuccess / SendTaskFailure.
"""
