-- Addresses each account has signed in from, so that the sign-in throttle
-- gives them a larger allowance and never slows them for another
-- address's failures (auth.Throttle). One row per account and address,
-- with the latest good sign-in; rows unused for a year are deleted.
CREATE TABLE login_addresses (
    email   TEXT NOT NULL,
    ip      TEXT NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (email, ip)
);

-- Failures are now counted per account and address.
CREATE INDEX login_failures_pair ON login_failures (email, ip, at);
