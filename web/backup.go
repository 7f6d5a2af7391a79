package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// backup streams a consistent copy of the database to an admin token. Once
// the copy has started its status is sent: a copy cut short by an error is
// shorter than bbolt's header says, and restore refuses it.
func (s *Server) backup(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/octet-stream")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="peerline-`+s.now().UTC().Format("20060102-150405")+`.db"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	if err := s.Backup(c.Request().Context(), c.Response()); err != nil {
		s.log.Error().Err(err).Msg("backup cut short")
	}
	return nil
}
