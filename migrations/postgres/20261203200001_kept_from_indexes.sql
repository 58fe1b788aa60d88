-- Who is kept from an author (the streaming hub asks this of every status
-- it sends): the mutes of an account and the users' blocks of a server,
-- read from the target's side.
CREATE INDEX mutes_target ON mutes (target_account_id);
CREATE INDEX account_domain_blocks_domain ON account_domain_blocks (domain);
