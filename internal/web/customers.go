package web

import "github.com/labstack/echo/v4"

// customerRoutes registers the customer-rating pages: upload, metrics,
// API keys.
func (s *Server) customerRoutes(user, editor, admin []echo.MiddlewareFunc) {}
