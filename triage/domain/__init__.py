"""The product's rules, pure: no I/O, no clock reads (`now` is always a parameter).

One rule, one module: `calendar` (business time, clock start, deadline),
`conversation` (a provider thread -> a conversation: waiting, clock start),
`ownership` (who owns it), `routing` (sender -> client, region), `history`
(the notes that record actions), `urgency` (the one state function, the
escalation rule, counts, filters), `ordering` (the one sort key, the sorted
queue), `outbox` (the states of a reply or action on its way to the provider).
"""
