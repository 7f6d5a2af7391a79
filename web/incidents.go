package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/line"
)

// listIncidents is ?line= and ?state= (ny, kontaktad, avslutad), newest first.
func (s *Server) listIncidents(c echo.Context) error {
	list, err := s.Lines.Incidents(c.QueryParam("line"), c.QueryParam("state"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"incidents": list})
}

type incidentRequest struct {
	State string `json:"state"`
	Note  string `json:"note"`
}

func (s *Server) updateIncident(c echo.Context) error {
	var req incidentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := s.Lines.UpdateIncident(c.Request().Context(), c.Param("id"), req.State, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, in)
}

// incidentForm moves an incident on from Linjen.
func (s *Server) incidentForm(c echo.Context) error {
	_, err := s.Lines.UpdateIncident(c.Request().Context(), c.Param("id"), c.FormValue("state"), c.FormValue("note"))
	return done(c, "/linjen", err, "Uppföljningen är sparad.")
}

// reasons of incidents, in Swedish.
var incidentReasons = map[string]string{"safety": "säkerhetsknappen", "wrapup": "agenten bad kansliet höra av sig"}

// openIncident is an incident as Linjen shows it.
type openIncident struct {
	line.Incident
	AgentName string
	Why       string
}
