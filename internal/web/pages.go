package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/lang"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/tandem"
)

//go:embed templates
var templateFS embed.FS

// pages holds one template set per page: the layout, the shared partials
// and that page's "content".
type pages struct {
	set map[string]*template.Template
}

var funcs = template.FuncMap{
	"date": tandem.FormatDate,
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"add": func(a, b int) int { return a + b },
	// pair passes two values to a template: {{template "x" (pair . $p)}}.
	"pair": func(a, b any) struct{ A, B any } { return struct{ A, B any }{a, b} },
	"sub":  func(a, b int) int { return a - b },
	"query": func(kv ...any) template.URL {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if s := fmt.Sprint(kv[i+1]); s != "" && s != "0" {
				v.Set(fmt.Sprint(kv[i]), s)
			}
		}
		return template.URL(v.Encode())
	},
	"indent": func(depth int) template.HTMLAttr {
		return template.HTMLAttr(fmt.Sprintf(`class="depth-%d"`, min(depth, 8)))
	},
	"join": strings.Join,
	"pct":  func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	// num formats a score; NaN (not asked, or hidden) shows as a dash.
	"num": func(v float64) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "—"
		}
		return fmt.Sprintf("%.0f", v)
	},
	"num1": func(v float64) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "—"
		}
		return fmt.Sprintf("%.1f", v)
	},
	"signed": func(v float64) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "—"
		}
		return fmt.Sprintf("%+.0f", v)
	},
	"driverLabel":  pulse.DriverLabel,
	"measureLabel": pulse.MeasureLabel,
	"riskLabel":    report.RiskMeasureLabel,
	"pctNum": func(v report.Num) string {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", float64(v)*100)
	},
	"numN": func(v report.Num) string {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return "—"
		}
		return fmt.Sprintf("%.2f", float64(v))
	},
	"div10": func(v float64) float64 { return math.Round(math.Max(0, math.Min(100, v)) / 10) },
	"nan":   func(v float64) bool { return math.IsNaN(v) },
	"str":   func(v any) string { return fmt.Sprint(v) },
	"id":    func(v int64) string { return strconv.FormatInt(v, 10) },
	// invalid marks a form field that has a problem, pointing at the
	// problem's text beside it (id FIELD-error).
	"invalid": func(problems map[string]string, field string) template.HTMLAttr {
		if problems[field] == "" {
			return ""
		}
		return template.HTMLAttr(fmt.Sprintf(` aria-invalid="true" aria-describedby="%s-error"`, template.HTMLEscapeString(field)))
	},
	"localtime": func(t time.Time, zone string) string {
		if t.IsZero() {
			return ""
		}
		return tandem.InZone(t, zone).Format("Mon 2 Jan 2006 15:04 MST")
	},
}

// parsedPages are the templates, parsed once per process: they are
// embedded, so every server of the process would parse the same, and
// html/template executes concurrently. Tests start a server per test.
var parsedPages = sync.OnceValues(loadPages)

func loadPages() (*pages, error) {
	p := &pages{set: map[string]*template.Template{}}
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		p.set[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return p, nil
}

// pageData is what every page template receives.
type pageData struct {
	Title   string
	Nav     string
	User    *tandem.User
	CSRF    string
	Flash   string
	Version string
	// Bare pages (the answer form) have no navigation.
	Bare bool
	// L speaks the employee's language on the answer link's pages; nil
	// on the staff pages, which are in English.
	L    *lang.Printer
	Data any
}

// render writes page name with status 200.
func (s *Server) render(c echo.Context, name string, d pageData) error {
	return s.renderStatus(c, http.StatusOK, name, d)
}

func (s *Server) renderStatus(c echo.Context, status int, name string, d pageData) error {
	t, ok := s.pages.set[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	if d.User == nil {
		d.User = currentUser(c)
	}
	if d.CSRF == "" {
		d.CSRF = csrfToken(c)
	}
	if d.Flash == "" {
		d.Flash = takeFlash(c)
	}
	d.Version = s.cfg.Version
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

const flashCookie = "tandem_flash"

// flash shows msg on the next page the browser loads.
func (s *Server) flash(c echo.Context, msg string) {
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies, MaxAge: 60})
}

// hasFlash says whether a message waits to be shown.
func hasFlash(c echo.Context) bool {
	ck, err := c.Cookie(flashCookie)
	return err == nil && ck.Value != ""
}

func takeFlash(c echo.Context) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1})
	msg, _ := url.QueryUnescape(ck.Value)
	return msg
}
