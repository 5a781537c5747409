package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/tandem-hq/tandem/internal/store"
)

// routes is Tandem's one route table: every address the server answers,
// in four groups with their own authentication — operations, the JSON API
// (bearer keys, no cookies, no CSRF), the pages (session cookie and CSRF,
// by role) and the answer links (the token in the path is the credential).
// Middleware is attached per route rather than to echo groups, so that an
// unknown address is a plain 404 for everyone.
func (s *Server) routes() {
	e := s.echo
	// Headers first, before routing: the trailing-slash redirect (of an
	// answer link too) answers from Pre and must carry them.
	e.Pre(s.secureHeaders)
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}))
	e.Use(s.recoverPanics)
	e.Use(s.logRequests)
	e.Use(middleware.BodyLimit(s.cfg.BodyLimit))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: s.cfg.RequestTimeout}))
	if s.cfg.RateLimit > 0 {
		e.Use(s.rateLimit())
	}

	// Operations and static files: no session.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	// Metrics count answers as they arrive: a key with metrics:read only.
	e.GET("/metrics", s.metrics.handler(), s.apiKey(store.ScopeMetricsRead))
	e.GET("/api/openapi.json", s.openAPI)
	e.GET("/static/*", s.staticFiles())
	e.GET("/favicon.ico", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg") })

	// The JSON API under /api/v1: bearer keys with scopes (the report
	// routes also take a signed-in browser's session).
	e.POST("/api/v1/customer-ratings", s.postRatings, s.apiKey(store.ScopeRatingsWrite))
	e.POST("/api/v1/exits", s.postExits, s.apiKey(store.ScopeRosterWrite))
	e.GET("/api/v1/reports/correlation", s.correlationJSON, s.apiOrSession(store.ScopeReportsRead))
	e.GET("/api/v1/reports/correlation/pairs", s.correlationPairsJSON, s.apiOrSession(store.ScopeReportsRead))
	e.GET("/api/v1/reports/retention", s.retentionJSON, s.apiOrSession(store.ScopeReportsRead))

	// Pages: a session cookie and CSRF, by role.
	pub := chain(s.loadSession, s.csrf)
	user := chain(pub, s.requireUser)
	editor := chain(user, s.requireEditor)
	admin := chain(user, s.requireAdmin)

	e.GET("/", s.home, pub...)
	e.GET("/login", s.loginPage, pub...)
	e.POST("/login", s.login, pub...)
	if s.sso != nil {
		e.GET("/login/sso", s.ssoStart, pub...)
		e.GET(ssoCallbackPath, s.ssoCallback, pub...)
	}
	e.POST("/logout", s.logout, pub...)
	e.GET("/setup/:token", s.setupPage, pub...)
	e.POST("/setup/:token", s.setup, pub...)

	// Everyone signed in (a leader sees their own part of the organisation).
	e.GET("/dashboard", s.dashboard, user...)
	e.GET("/units", s.unitsPage, user...)
	e.GET("/units/:id", s.unitPage, user...)
	e.GET("/employees", s.employeesPage, user...)
	e.GET("/employees/:id", s.employeePage, user...)
	e.GET("/roster/export.csv", s.exportRoster, user...)
	e.GET("/account", s.accountPage, user...)
	e.POST("/account/password", s.changePassword, user...)
	e.GET("/results", s.resultsPage, user...)
	e.GET("/results/:id", s.programResults, user...)
	e.GET("/rounds/:id", s.roundResults, user...)
	e.GET("/rounds/:id/export.csv", s.exportRound, user...)
	e.GET("/service", s.servicePage, user...)
	e.GET("/reports/correlation", s.correlationPage, user...)
	e.GET("/reports/correlation.csv", s.correlationCSV, user...)
	e.GET("/reports/retention", s.retentionPage, user...)
	e.GET("/reports/retention.csv", s.retentionCSV, user...)
	e.GET("/risks", s.risksPage, user...)
	// Comments: a leader acts on those in their scope (handlers check it).
	e.GET("/comments", s.commentsPage, user...)
	e.POST("/comments/ack", s.acknowledgeComment, user...)
	e.POST("/comments/note", s.saveRoundNote, user...)

	// HR and admins: the roster, pulse programs, questions, ratings.
	e.POST("/units/:id", s.updateUnit, editor...)
	e.POST("/employees/:id", s.updateEmployee, editor...)
	e.GET("/roster/import", s.importPage, editor...)
	e.POST("/roster/import", s.importUpload, editor...)
	e.POST("/roster/import/:upload/apply", s.importApply, editor...)
	e.GET("/history/import", s.historyImportPage, editor...)
	e.POST("/history/import", s.historyUpload, editor...)
	e.POST("/history/import/:upload/apply", s.historyApply, editor...)
	e.GET("/programs", s.programsPage, editor...)
	e.GET("/programs/new", s.newProgramPage, editor...)
	e.POST("/programs", s.createProgram, editor...)
	e.GET("/programs/:id", s.programPage, editor...)
	e.GET("/programs/:id/edit", s.editProgramPage, editor...)
	e.POST("/programs/:id", s.updateProgram, editor...)
	e.POST("/programs/:id/pause", s.setProgramActive(false), editor...)
	e.POST("/programs/:id/resume", s.setProgramActive(true), editor...)
	e.POST("/programs/:id/send", s.sendRoundNow, editor...)
	e.GET("/programs/:id/preview", s.previewProgram, editor...)
	e.GET("/programs/cadence-preview", s.cadencePreviewJSON, editor...)
	e.POST("/programs/:id/skip", s.skipDate(true), editor...)
	e.POST("/programs/:id/unskip", s.skipDate(false), editor...)
	e.POST("/settings/timezone", s.setOrgZone, editor...)
	e.POST("/settings/language", s.setOrgLanguage, editor...)
	e.GET("/questions", s.questionsPage, editor...)
	e.POST("/questions", s.createQuestion, editor...)
	e.POST("/questions/:id/translations", s.setQuestionTranslations, editor...)
	e.POST("/questions/:id/retire", s.retireQuestion(true), editor...)
	e.POST("/questions/:id/restore", s.retireQuestion(false), editor...)
	e.GET("/outbox", s.outboxPage, editor...)
	e.POST("/outbox/retry", s.retryOutbox, editor...)
	e.GET("/ratings/import", s.ratingsImportPage, editor...)
	e.POST("/ratings/import", s.ratingsUpload, editor...)
	e.POST("/ratings/import/:upload/check", s.ratingsRecheck, editor...)
	e.POST("/ratings/import/:upload/apply", s.ratingsApply, editor...)
	e.GET("/helpdesk", s.helpdeskPage, editor...)
	e.POST("/helpdesk", s.createConnector, editor...)
	e.GET("/helpdesk/:id", s.connectorPage, editor...)
	e.POST("/helpdesk/:id", s.updateConnector, editor...)
	e.POST("/helpdesk/:id/groups", s.mapConnectorGroups, editor...)
	e.POST("/helpdesk/:id/sync", s.syncConnectorNow, editor...)
	e.POST("/helpdesk/:id/retry", s.retrySetAside, editor...)
	e.POST("/helpdesk/:id/delete", s.deleteConnector, editor...)

	// Admins: accounts, API keys, the audit log.
	e.GET("/users", s.usersPage, admin...)
	e.POST("/users", s.createUser, admin...)
	e.GET("/users/:id", s.userPage, admin...)
	e.POST("/users/:id", s.updateUser, admin...)
	e.GET("/audit", s.auditPage, admin...)
	e.POST("/users/throttles/clear", s.clearThrottle, admin...)
	e.GET("/settings/api-keys", s.apiKeysPage, admin...)
	e.POST("/settings/api-keys", s.createAPIKey, admin...)
	e.GET("/settings/api-keys/:id/revoke", s.revokeAPIKeyPage, admin...)
	e.POST("/settings/api-keys/:id/revoke", s.revokeAPIKey, admin...)
	e.GET("/settings/sso", s.ssoSettingsPage, admin...)
	e.POST("/settings/sso/rules", s.addSSORule, admin...)
	e.POST("/settings/sso/rules/:id/delete", s.deleteSSORule, admin...)

	// Answer links: the unguessable token in the path is the credential,
	// so these routes carry no session and no CSRF cookie.
	answer := []echo.MiddlewareFunc{answerHeaders}
	if s.cfg.RateLimit > 0 {
		answer = append(answer, newGuessLimiter(s.cfg.RateLimit, s.now).guard)
	}
	e.GET(answerRoute, s.answerPage, answer...)
	e.POST(answerRoute, s.submitAnswer, answer...)
}
