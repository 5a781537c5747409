// Package mail delivers Tandem's outbox messages (pulse invitations, reminders,
// HR digests) through one of four transports, each a [Sender]:
//
//   - [NewSMTP]: email through an SMTP server (submission with STARTTLS,
//     implicit TLS, or a plain local relay).
//   - [NewWebhook]: a Slack-compatible incoming webhook (one channel).
//   - [NewTeamsWorkflow]: a Power Automate Workflows flow that posts an
//     Adaptive Card in a 1:1 Microsoft Teams chat with the recipient; channel
//     webhook URLs are refused.
//   - [NewLog]: writes the message to a log instead of delivering it; the local
//     demo uses it to show answer links.
//
// # Errors and retries
//
// Send does not retry. The outbox worker retries with backoff when an error is
// temporary and gives up when [Permanent] reports true: an SMTP 5xx reply
// (including 535 wrong password and 550 unknown recipient), an invalid address
// or header, a TLS certificate the client does not trust, a server that does not
// offer STARTTLS in "starttls" mode, or a webhook 4xx other than 408 and 429.
// Network errors, timeouts, SMTP 4xx and webhook 5xx are temporary. A
// [*RetryAfterError] is temporary and says how long, or until when, the server
// asked us to wait; the outbox turns a date into a wait on its own clock.
//
// Delivery is at least once: if the connection drops after the server received
// the whole message but before it confirmed it, Send reports a temporary error
// and a retry sends the message again. Once the server has accepted the message
// Send returns nil, even if saying goodbye (QUIT) fails.
//
// # SMTP configuration
//
// cmd/tandem reads [SMTPConfig] from flags and the environment; the error
// messages of [NewSMTP] name these variables:
//
//	TANDEM_SMTP_HOST       Host
//	TANDEM_SMTP_PORT       Port (587 for starttls, 465 for tls, 25 or 1025 for a local relay)
//	TANDEM_SMTP_SECURITY   Security: starttls (default) | tls | none
//	TANDEM_SMTP_USERNAME   Username (AUTH PLAIN when set)
//	TANDEM_SMTP_PASSWORD   Password
//	TANDEM_SMTP_FROM       From, e.g. "Tandem <pulse@example.com>"
//	TANDEM_SMTP_HELO       HeloName (default "localhost")
//	TANDEM_SMTP_TIMEOUT    Timeout per connection (default 30s)
//
// The webhook URL (TANDEM_WEBHOOK_URL) is a secret: errors name only its
// scheme and host.
//
// Each Send opens one connection, delivers one message and closes it. That is
// simple and is plenty for an outbox that sends a few thousand invitations a
// week; connection reuse can come later behind the same interface.
//
// # Privacy
//
// A webhook posts to the one channel its URL belongs to and ignores
// Message.To. Personal answer links must not be sent through a shared channel:
// anyone who can read the channel could answer in that person's name. The log
// transport prints answer links in clear text and is meant for local use only.
package mail
