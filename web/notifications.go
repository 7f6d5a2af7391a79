package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/internal/apierror"
	"github.com/peerline/peerline/internal/input"
)

// Notifications are the e-mail and SMS to people, for the office's list.
type Notifications interface {
	Notices(limit int) ([]Notice, error)
	Resend(ctx context.Context, id string) error
}

// Notice is one message as the office sees it: whom (by name), how, and how
// it went; never the address or number it went to.
type Notice struct {
	ID       string     `json:"id"`
	Event    string     `json:"event"`
	Channel  string     `json:"channel"`
	To       string     `json:"to"` // the name of whom it is for
	Subject  string     `json:"subject"`
	Status   string     `json:"status"` // pending, sent, failed
	Attempts int        `json:"attempts"`
	Error    string     `json:"error,omitempty"`
	Created  time.Time  `json:"created"`
	Next     *time.Time `json:"next,omitempty"` // a pending one's next attempt
	Sent     *time.Time `json:"sent,omitempty"`
}

// ErrNoNotice is what Resend returns for an unknown id.
var ErrNoNotice = errors.New("no such notification")

func (s *Server) listNotifications(c echo.Context) error {
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return input.Errorf("limit", "give 1 to 1000")
		}
		limit = n
	}
	list, err := s.Notifications.Notices(limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"notifications": list})
}

func (s *Server) resendNotification(c echo.Context) error {
	err := s.Notifications.Resend(c.Request().Context(), c.Param("id"))
	if errors.Is(err, ErrNoNotice) {
		return apierror.New(http.StatusNotFound, "not_found", "no notification %s", c.Param("id"))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "pending"})
}
