-- What moderators did to an account, beside `suspended_at` (nothing of it
-- is served, nothing from it accepted, it cannot sign in): silenced (kept
-- out of public timelines and from strangers' notifications) or marked
-- sensitive (its media shown behind a warning). NULL: not done.
ALTER TABLE accounts ADD COLUMN silenced_at BIGINT;
ALTER TABLE accounts ADD COLUMN sensitized_at BIGINT;
