-- Getting accounts in: an optional outbound proxy per account, and the identity the upstream
-- reports for it (getUsageLimits `userInfo`), which lets a second login or import of the same
-- user update the account instead of duplicating it.
--
-- `proxy` is sealed with the master key like `credentials` (`v1:` + base64): a proxy URL may
-- carry a password.
ALTER TABLE accounts ADD COLUMN proxy TEXT;
ALTER TABLE accounts ADD COLUMN email TEXT;
ALTER TABLE accounts ADD COLUMN user_id TEXT;
