package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/peerline/peerline/line"
	"github.com/peerline/peerline/web/auth"
)

// Users are the office's users: log-in, and their management by an admin.
type Users interface {
	CheckPassword(name, password string) (auth.User, error)
	User(name string) (auth.User, error)
	Users() ([]auth.User, error)
	AddUser(ctx context.Context, name string, role auth.Role, password string) error
	SetPassword(ctx context.Context, name, password string) error
	SetRole(ctx context.Context, name string, role auth.Role) error
	DeleteUser(ctx context.Context, name string) error
}

// Tokens are the API's bearer tokens.
type Tokens interface {
	Authenticate(token string) (auth.Token, error)
	CreateToken(ctx context.Context, name string, role auth.Role) (string, error)
	Tokens() ([]auth.Token, error)
	RevokeToken(ctx context.Context, name string) error
}

// userView is a user as the API shows it: never the password's hash.
type userView struct {
	Name    string    `json:"name"`
	Role    auth.Role `json:"role"`
	Created time.Time `json:"created"`
}

// roleKey is where requireToken and requireSession put the caller's role.
const roleKey = "role"

// requireAdmin lets through only an admin's token or session: users and tokens
// are theirs to manage.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r, _ := c.Get(roleKey).(auth.Role); r != auth.RoleAdmin {
			return errorf(http.StatusForbidden, "forbidden", "only an admin manages users and tokens")
		}
		return next(c)
	}
}

func (s *Server) listUsers(c echo.Context) error {
	all, err := s.Users.Users()
	if err != nil {
		return err
	}
	out := make([]userView, len(all))
	for i, u := range all {
		out[i] = userView{Name: u.Name, Role: u.Role, Created: u.Created}
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

func (s *Server) user(name string) (userView, error) {
	u, err := s.Users.User(name)
	return userView{Name: u.Name, Role: u.Role, Created: u.Created}, err
}

func (s *Server) getUser(c echo.Context) error {
	u, err := s.user(c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) createUser(c echo.Context) error {
	var req struct {
		Name     string    `json:"name"`
		Role     auth.Role `json:"role"`
		Password string    `json:"password"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = auth.RoleOffice
	}
	if err := s.Users.AddUser(c.Request().Context(), req.Name, req.Role, req.Password); err != nil {
		return err
	}
	u, err := s.user(req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

// updateUser changes a user's role or password. Both are checked before
// either is changed; a new password ends the user's sessions.
func (s *Server) updateUser(c echo.Context) error {
	var req struct {
		Role     *auth.Role `json:"role"`
		Password *string    `json:"password"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	name := c.Param("name")
	if err := s.changeUser(c.Request().Context(), name, req.Role, req.Password, ""); err != nil {
		return err
	}
	return s.getUser(c)
}

// changeUser sets what is given of role and password, checked first so that a
// refusal changes nothing. A new password ends the user's sessions but keep.
func (s *Server) changeUser(ctx context.Context, name string, role *auth.Role, password *string, keep string) error {
	if _, err := s.Users.User(name); err != nil {
		return err
	}
	if password != nil {
		if err := auth.ValidPassword(*password); err != nil {
			return err
		}
	}
	if role != nil {
		if err := s.Users.SetRole(ctx, name, *role); err != nil {
			return err
		}
	}
	if password == nil {
		return nil
	}
	if err := s.Users.SetPassword(ctx, name, *password); err != nil {
		return err
	}
	s.sessions.endUser(name, keep)
	return nil
}

func (s *Server) deleteUser(c echo.Context) error {
	if err := s.Users.DeleteUser(c.Request().Context(), c.Param("name")); err != nil {
		return err
	}
	s.sessions.endUser(c.Param("name"), "")
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listTokens(c echo.Context) error {
	all, err := s.Tokens.Tokens()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": all})
}

// createToken answers the new token once; only its hash is kept.
func (s *Server) createToken(c echo.Context) error {
	var req struct {
		Name string    `json:"name"`
		Role auth.Role `json:"role"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = auth.RoleOffice
	}
	tok, err := s.Tokens.CreateToken(c.Request().Context(), req.Name, req.Role)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"name": req.Name, "role": req.Role, "created": s.now().UTC(), "token": tok})
}

func (s *Server) revokeToken(c echo.Context) error {
	if err := s.Tokens.RevokeToken(c.Request().Context(), c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// authError maps the auth package's errors for toAPIError.
func authError(err error) *apiError {
	switch {
	case errors.Is(err, auth.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "%s", err)
	case errors.Is(err, auth.ErrExists):
		return errorf(http.StatusConflict, "exists", "%s", err)
	case errors.Is(err, auth.ErrLastAdmin):
		return errorf(http.StatusConflict, "last_admin", "%s", err)
	}
	return nil
}

// adminPage keeps an office user off Användare: the page says why, a form is
// refused.
func adminPage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r, _ := c.Get(roleKey).(auth.Role); r == auth.RoleAdmin {
			return next(c)
		}
		err := errorf(http.StatusForbidden, "forbidden", "only an admin manages users")
		if c.Request().Method == http.MethodGet {
			return done(c, "/linjen", err, "")
		}
		return err
	}
}

func (s *Server) usersPage(c echo.Context) error {
	return s.page(c, "anvandare", func(*line.Line) (any, error) { return s.Users.Users() })
}

func (s *Server) addUserForm(c echo.Context) error {
	name := c.FormValue("name")
	err := s.Users.AddUser(c.Request().Context(), name, auth.Role(c.FormValue("role")), c.FormValue("password"))
	return done(c, "/anvandare", err, "Användaren "+name+" är tillagd.")
}

// roleForm changes a role; it holds from the user's next request.
func (s *Server) roleForm(c echo.Context) error {
	role := auth.Role(c.FormValue("role"))
	err := s.changeUser(c.Request().Context(), c.Param("name"), &role, nil, "")
	return done(c, "/anvandare", err, c.Param("name")+" har nu rollen "+string(role)+".")
}

// passwordForm sets a new password and ends the user's sessions, but not the
// admin's own.
func (s *Server) passwordForm(c echo.Context) error {
	pw := c.FormValue("password")
	err := s.changeUser(c.Request().Context(), c.Param("name"), nil, &pw, c.Get("session").(*session).id)
	return done(c, "/anvandare", err, c.Param("name")+" har ett nytt lösenord.")
}

func (s *Server) removeUserForm(c echo.Context) error {
	name := c.Param("name")
	if c.Get("session").(*session).user == name {
		return done(c, "/anvandare", errorf(http.StatusConflict, "self", "you cannot remove yourself"), "")
	}
	err := s.Users.DeleteUser(c.Request().Context(), name)
	if err == nil {
		s.sessions.endUser(name, "")
	}
	return done(c, "/anvandare", err, "Användaren "+name+" är borttagen.")
}
