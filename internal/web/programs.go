package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/lang"
	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Jobs is what the web server asks of the background work: create a round
// now, follow program changes, say when a program runs next, and wake the
// outbox.
type Jobs interface {
	SendNow(ctx context.Context, programID int64, now time.Time) (pulse.Round, bool, error)
	Sync(ctx context.Context) error
	NextRun(programID int64) time.Time
}

// SetJobs connects the server to the scheduler.
func (s *Server) SetJobs(j Jobs) { s.jobs = j }

func (s *Server) syncJobs(c echo.Context) {
	if s.jobs == nil {
		return
	}
	if err := s.jobs.Sync(c.Request().Context()); err != nil {
		s.log.Error("sync scheduler with programs", "err", err)
	}
}

type programRow struct {
	pulse.Program
	Audience string
	NextRun  time.Time
	Latest   *pulse.Round
	// Words is the cadence in words.
	Words string
}

// orgZoneKey is the setting that holds the organisation's time zone: the
// zone new programs start in. Setup sets it from the browser's zone.
const orgZoneKey = "timezone"

// orgZone returns the organisation's time zone, UTC until one is set.
func (s *Server) orgZone(ctx context.Context) string {
	if z, err := s.store.Setting(ctx, orgZoneKey); err == nil && z != "" {
		return z
	}
	return "UTC"
}

func (s *Server) programsPage(c echo.Context) error {
	ctx := c.Request().Context()
	programs, err := s.store.Programs(ctx)
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	var rows []programRow
	for _, p := range programs {
		row := programRow{Program: p, Words: p.Cadence.Describe()}
		if u := tree.Unit(p.AudienceUnitID); u != nil {
			row.Audience = u.Path
		}
		if s.jobs != nil {
			row.NextRun = s.jobs.NextRun(p.ID)
		}
		if r, ok, err := s.store.LatestRound(ctx, p.ID); err != nil {
			return err
		} else if ok {
			full, err := s.store.Round(ctx, r.ID)
			if err != nil {
				return err
			}
			row.Latest = &full
		}
		rows = append(rows, row)
	}
	return s.render(c, "programs", pageData{Title: "Pulse programs", Nav: "programs", Data: map[string]any{
		"Rows": rows, "OrgZone": s.orgZone(ctx), "Zones": tandem.ZoneNames, "Languages": languageChoices(s.orgLanguage(ctx)),
	}})
}

// setOrgZone changes the organisation's time zone (new programs' default).
func (s *Server) setOrgZone(c echo.Context) error {
	zone := strings.TrimSpace(c.FormValue("timezone"))
	if _, err := tandem.LoadLocation(zone); err != nil || zone == "" || strings.EqualFold(zone, "local") {
		s.flash(c, fmt.Sprintf("%q is not a time zone Tandem knows; use an IANA name such as Europe/Berlin. The organisation's zone is unchanged.", zone))
		return c.Redirect(http.StatusSeeOther, "/programs")
	}
	if err := s.store.SetSetting(c.Request().Context(), orgZoneKey, zone); err != nil {
		return err
	}
	s.audit(c, "settings.timezone", "organisation time zone "+zone)
	s.flash(c, "New programs now start in "+zone+". Existing programs keep their own zone.")
	return c.Redirect(http.StatusSeeOther, "/programs")
}

// orgLanguage is the organisation's default language, "" when unset
// (English then).
func (s *Server) orgLanguage(ctx context.Context) string {
	v, _ := s.store.OrgLanguage(ctx)
	return v
}

// setOrgLanguage changes the language employees are spoken to in when
// neither the roster nor their browser names one Tandem speaks.
func (s *Server) setOrgLanguage(c echo.Context) error {
	code, err := lang.Parse(c.FormValue("language"))
	if err != nil {
		s.flash(c, "Language: "+err.Error()+". The organisation's language is unchanged.")
		return c.Redirect(http.StatusSeeOther, "/programs")
	}
	if err := s.store.SetSetting(c.Request().Context(), store.OrgLanguageKey, code); err != nil {
		return err
	}
	name := "English"
	if code != "" {
		name = lang.Name(lang.Choose(code))
	}
	s.audit(c, "settings.language", "organisation language "+code)
	s.flash(c, "Employees whose roster and browser name no language Tandem speaks now get "+name+".")
	return c.Redirect(http.StatusSeeOther, "/programs")
}

// programForm is the program form's values as typed.
type programForm map[string]string

// cadenceFields are the form fields of a cadence (see pulse.CadenceInput).
var cadenceFields = []string{"preset", "repeat", "on", "weeks", "weekday", "nth", "day", "start", "at", "cron", "timezone"}

func formOf(p pulse.Program) programForm {
	in := p.Cadence.Input()
	f := programForm{
		"name": p.Name, "audience": strconv.FormatInt(p.AudienceUnitID, 10),
		"preset": pulse.PresetKey(p.Cadence), "repeat": in.Repeat, "on": in.On, "weeks": in.Weeks, "weekday": in.Weekday, "nth": in.Nth,
		"day": in.Day, "start": in.Start, "at": in.At, "cron": in.Cron, "timezone": in.Zone,
		"window_days": strconv.Itoa(p.WindowDays), "reminder_days": strconv.Itoa(p.ReminderDays),
		"questions_per_round": strconv.Itoa(p.QuestionsPerRound), "driver_cycle": strconv.Itoa(p.DriverCycle),
		"core_every": strconv.Itoa(p.CoreEvery), "min_group": strconv.Itoa(p.MinGroup), "channel": p.Channel,
	}
	var ex []string
	for _, x := range p.ExcludedUnits {
		ex = append(ex, strconv.FormatInt(x, 10))
	}
	f["excluded"] = strings.Join(ex, ",")
	var qs []string
	for _, q := range p.QuestionIDs {
		qs = append(qs, strconv.FormatInt(q, 10))
	}
	f["questions"] = strings.Join(qs, ",")
	return f
}

// cadenceOf reads the cadence of a form: a preset (with the form's start
// date and zone), or the fields as typed.
func cadenceOf(f programForm) (pulse.Cadence, error) {
	if c, ok := pulse.PresetCadence(f["preset"], f["start"], f["timezone"]); ok {
		// A preset's fields are what the form shows from now on.
		in := c.Input()
		f["repeat"], f["on"], f["weeks"], f["weekday"], f["nth"], f["day"], f["at"] = in.Repeat, in.On, in.Weeks, in.Weekday, in.Nth, in.Day, in.At
		// The start and zone are still checked as typed.
		_, err := pulse.ParseCadence(in)
		return c, err
	}
	return pulse.ParseCadence(pulse.CadenceInput{Repeat: f["repeat"], On: f["on"], Weeks: f["weeks"], Weekday: f["weekday"], Nth: f["nth"],
		Day: f["day"], Start: f["start"], At: f["at"], Cron: f["cron"], Zone: f["timezone"]})
}

// programFromForm reads the form into p and returns every problem found
// (each a field error), checked at now the way the store will check it.
func (s *Server) programFromForm(c echo.Context, p *pulse.Program) (programForm, error) {
	f := programForm{}
	for _, k := range append([]string{"name", "audience", "window_days", "reminder_days", "questions_per_round", "driver_cycle", "core_every", "min_group", "channel"}, cadenceFields...) {
		f[k] = strings.TrimSpace(c.FormValue(k))
	}
	params, _ := c.FormParams()
	f["excluded"] = strings.Join(params["excluded"], ",")
	f["questions"] = strings.Join(params["questions"], ",")
	var problems []error
	p.Name = f["name"]
	num := func(key, label string) int {
		v, e := strconv.Atoi(f[key])
		if e != nil {
			problems = append(problems, tandem.FieldErrorf(key, "%s must be a whole number", label))
		}
		return v
	}
	p.AudienceUnitID = int64(num("audience", "the audience"))
	p.WindowDays = num("window_days", "the answer window")
	p.ReminderDays = num("reminder_days", "the reminder delay")
	p.QuestionsPerRound = num("questions_per_round", "questions per round")
	p.DriverCycle = num("driver_cycle", "the driver cycle")
	p.CoreEvery = num("core_every", "the core cadence")
	p.MinGroup = num("min_group", "the anonymity threshold")
	saved := p.Cadence
	cadence, err := cadenceOf(f)
	if err != nil {
		problems = append(problems, err)
	} else {
		p.Cadence = cadence
		// A cron expression is for admins; HR may keep one an admin set.
		if cadence.NeedsAdmin() && !isAdmin(c) && (saved.Kind != pulse.Cron || saved.Expr != cadence.Expr) {
			problems = append(problems, tandem.FieldErrorf("cron", "only an admin can set a cron expression; choose weekly, monthly or quarterly"))
		}
	}
	// A channel without a transport is refused when chosen, not left to
	// fail in the outbox; a program already on one keeps it until edited
	// to another (the outbox page shows its failures).
	if saved := p.Channel; f["channel"] != saved && s.cfg.Channels != nil {
		if err := pulse.CheckChannelConfigured(f["channel"], s.cfg.Channels); err != nil {
			problems = append(problems, err)
		}
	}
	p.Channel = f["channel"]
	p.ExcludedUnits = nil
	for _, x := range params["excluded"] {
		id, e := strconv.ParseInt(x, 10, 64)
		if e != nil {
			problems = append(problems, tandem.FieldErrorf("excluded", "%q is not a unit", x))
			continue
		}
		p.ExcludedUnits = append(p.ExcludedUnits, id)
	}
	p.QuestionIDs = nil
	for _, x := range params["questions"] {
		id, e := strconv.ParseInt(x, 10, 64)
		if e != nil {
			problems = append(problems, tandem.FieldErrorf("questions", "%q is not a question", x))
			continue
		}
		p.QuestionIDs = append(p.QuestionIDs, id)
	}
	if len(problems) == 0 {
		return f, p.Validate(s.now())
	}
	// Validate too, for the problems of the fields that did parse; the
	// first problem of a field is the one shown.
	return f, errors.Join(append(problems, p.Validate(s.now()))...)
}

func isAdmin(c echo.Context) bool {
	u := currentUser(c)
	return u != nil && u.Role == tandem.RoleAdmin
}

func (s *Server) newProgramPage(c echo.Context) error {
	ctx := c.Request().Context()
	p := pulse.Defaults()
	p.Name = ""
	zone := s.orgZone(ctx)
	// The first round is the next slot from today, in the org's zone.
	p.Cadence, _ = pulse.PresetCadence("weekly", tandem.InZone(s.now(), zone).Format(time.DateOnly), zone)
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	if roots := tree.Roots(); len(roots) > 0 {
		p.AudienceUnitID = roots[0]
	}
	return s.renderProgramForm(c, http.StatusOK, p, formOf(p), nil)
}

// cadencePreview is what the program form shows of a cadence: its words,
// its next slots, and its problems by field.
type cadencePreview struct {
	Words    string            `json:"words"`
	Next     []string          `json:"next"`
	Problems map[string]string `json:"problems"`
}

// previewCadence reads the cadence fields and the answer window of a
// form and says what they mean at now, with pulse's checks.
func (s *Server) previewCadence(f programForm) cadencePreview {
	out := cadencePreview{Problems: map[string]string{}}
	c, err := cadenceOf(f)
	if err != nil {
		out.Problems = pulse.FieldProblems(err)
		return out
	}
	p := pulse.Program{Cadence: c}
	p.WindowDays, _ = strconv.Atoi(f["window_days"])
	if err := p.CheckCadence(s.now()); err != nil {
		out.Problems = pulse.FieldProblems(err)
	}
	sched, err := c.Schedule()
	if err != nil {
		return out
	}
	out.Words = c.Describe()
	for _, t := range sched.Upcoming(s.now(), 5) {
		out.Next = append(out.Next, t.In(sched.Location()).Format("Mon 2 Jan 2006 15:04 MST"))
	}
	return out
}

// cadencePreviewJSON answers the program form's script: the next five
// slots of the cadence being typed, from the one place that computes them.
func (s *Server) cadencePreviewJSON(c echo.Context) error {
	f := programForm{"window_days": c.QueryParam("window_days")}
	for _, k := range cadenceFields {
		f[k] = strings.TrimSpace(c.QueryParam(k))
	}
	return c.JSON(http.StatusOK, s.previewCadence(f))
}

func (s *Server) renderProgramForm(c echo.Context, status int, p pulse.Program, f programForm, formErr error) error {
	tree, err := s.store.Tree(c.Request().Context())
	if err != nil {
		return err
	}
	excluded := map[string]bool{}
	for _, x := range strings.Split(f["excluded"], ",") {
		excluded[x] = true
	}
	qs, err := s.store.Questions(c.Request().Context())
	if err != nil {
		return err
	}
	chosen := map[string]bool{}
	for _, x := range strings.Split(f["questions"], ",") {
		chosen[x] = true
	}
	if f["questions"] == "" {
		for _, q := range qs {
			chosen[strconv.FormatInt(q.ID, 10)] = q.Builtin && !q.Retired
		}
	}
	title := "New pulse program"
	if p.ID != 0 {
		title = "Edit " + p.Name
	}
	problems := pulse.FieldProblems(formErr)
	summary := ""
	switch n := len(problems); {
	case formErr == nil:
	case n == 1:
		summary = tandem.ErrorMessage(formErr)
	case n > 1:
		summary = fmt.Sprintf("Nothing was saved: fix the %d problems marked below.", n)
		if msg := problems[""]; msg != "" {
			summary += " " + msg
		}
	default:
		summary = tandem.ErrorMessage(formErr)
	}
	preview := s.previewCadence(f)
	return s.renderStatus(c, status, "program_form", pageData{Title: title, Nav: "programs", Data: map[string]any{
		"Program": p, "Form": f, "Error": summary, "Problems": problems, "Units": tree.Walk(), "Presets": pulse.Presets, "Excluded": excluded,
		"Preview": preview, "Zones": tandem.ZoneNames, "Questions": qs, "Chosen": chosen, "Weekdays": weekdays, "Ordinals": pulse.Ordinals,
		"Admin": isAdmin(c), "Unset": s.unsetChannels(),
	}})
}

// unsetChannels are the channels without a transport on this server, which
// the form marks.
func (s *Server) unsetChannels() map[string]bool {
	out := map[string]bool{}
	if s.cfg.Channels == nil {
		return out
	}
	for _, ch := range []string{pulse.ChannelEmail, pulse.ChannelWebhook, pulse.ChannelTeams, pulse.ChannelLog} {
		out[ch] = !slices.Contains(s.cfg.Channels, ch)
	}
	return out
}

// weekdays are the weekday choices, Monday first.
var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

func (s *Server) createProgram(c echo.Context) error {
	p := pulse.Defaults()
	f, err := s.programFromForm(c, &p)
	if err == nil {
		err = privacy.CheckThresholdChange(privacy.DefaultK, p.MinGroup, isAdmin(c))
	}
	if err == nil {
		err = s.store.SaveProgram(c.Request().Context(), &p)
	}
	if code := tandem.ErrorCode(err); code == tandem.EINVALID {
		return s.renderProgramForm(c, http.StatusBadRequest, p, f, err)
	} else if err != nil {
		return err
	}
	s.syncJobs(c)
	s.audit(c, "program.create", fmt.Sprintf("program %d %q: %s", p.ID, p.Name, p.Cadence.Describe()))
	if p.MinGroup != privacy.DefaultK {
		s.audit(c, "program.threshold", fmt.Sprintf("program %d %q: anonymity threshold %d (default %d)", p.ID, p.Name, p.MinGroup, privacy.DefaultK))
	}
	s.flash(c, "Created "+p.Name+". Rounds start on its schedule; use “Send a round now” to start one today.")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/programs/%d", p.ID))
}

// calendarLength is how many of the next rounds the program page lists.
const calendarLength = 8

// recentRounds is how many rounds the program page lists before the
// folded "older rounds".
const recentRounds = 6

func (s *Server) programPage(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.store.Program(ctx, id)
	if err != nil {
		return err
	}
	rounds, err := s.store.Rounds(ctx, id)
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	var next time.Time
	if s.jobs != nil {
		next = s.jobs.NextRun(id)
	}
	var calendar []pulse.CalendarEntry
	problem := ""
	if sch, err := p.Schedule(); err == nil {
		calendar = sch.Calendar(s.now(), calendarLength)
	} else {
		problem = tandem.ErrorMessage(err)
	}
	if err := p.Validate(s.now()); err != nil && problem == "" {
		problem = tandem.ErrorMessage(err)
	}
	// The note of the move to cadences is said once, unless the program
	// still needs a cadence.
	note := p.CadenceNote
	if note != "" && problem == "" {
		if err := s.store.ClearCadenceNote(ctx, p.ID); err != nil {
			return err
		}
	}
	audience := ""
	if u := tree.Unit(p.AudienceUnitID); u != nil {
		audience = u.Path
	}
	// The latest rounds are listed; older ones fold away, so that a
	// program running for a year is not a page 10,000 px tall on a phone.
	recent, older := rounds, []pulse.Round(nil)
	if len(rounds) > recentRounds {
		recent, older = rounds[:recentRounds], rounds[recentRounds:]
	}
	return s.render(c, "program", pageData{Title: p.Name, Nav: "programs", Data: map[string]any{
		"Program": p, "Rounds": recent, "Older": older, "NextRun": next, "Calendar": calendar, "Audience": audience, "Cadence": p.Cadence.Describe(),
		"Note": note, "Problem": problem,
	}})
}

// skipDate skips the program's round on a date, or restores it.
func (s *Server) skipDate(skip bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		day := c.FormValue("day")
		if err := s.store.SetSkip(c.Request().Context(), id, day, skip); err != nil {
			return err
		}
		s.syncJobs(c)
		verb := "restored"
		if skip {
			verb = "skipped"
		}
		s.audit(c, "program.skip", fmt.Sprintf("program %d round of %s %s", id, day, verb))
		if d, err := time.Parse(time.DateOnly, day); err == nil {
			day = d.Format("Mon 2 Jan 2006")
		}
		s.flash(c, fmt.Sprintf("The round of %s is %s.", day, verb))
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/programs/%d", id))
	}
}

func (s *Server) editProgramPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.store.Program(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.renderProgramForm(c, http.StatusOK, p, formOf(p), nil)
}

func (s *Server) updateProgram(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.store.Program(ctx, id)
	if err != nil {
		return err
	}
	oldK := p.MinGroup
	f, err := s.programFromForm(c, &p)
	if err == nil {
		err = privacy.CheckThresholdChange(oldK, p.MinGroup, isAdmin(c))
	}
	if err == nil {
		err = s.store.SaveProgram(ctx, &p)
	}
	if code := tandem.ErrorCode(err); code == tandem.EINVALID {
		return s.renderProgramForm(c, http.StatusBadRequest, p, f, err)
	} else if err != nil {
		return err
	}
	s.syncJobs(c)
	s.audit(c, "program.update", fmt.Sprintf("program %d %q: %s, k %d", p.ID, p.Name, p.Cadence.Describe(), p.MinGroup))
	if p.MinGroup != oldK {
		s.audit(c, "program.threshold", fmt.Sprintf("program %d %q: anonymity threshold %d → %d", p.ID, p.Name, oldK, p.MinGroup))
	}
	s.flash(c, "Saved "+p.Name+".")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/programs/%d", p.ID))
}

func (s *Server) setProgramActive(active bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		if err := s.store.SetProgramActive(c.Request().Context(), id, active); tandem.ErrorCode(err) == tandem.EINVALID {
			s.flash(c, tandem.ErrorMessage(err))
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/programs/%d", id))
		} else if err != nil {
			return err
		}
		s.syncJobs(c)
		verb := "paused"
		if active {
			verb = "resumed"
		}
		s.audit(c, "program."+strings.TrimSuffix(verb, "d"), fmt.Sprintf("program %d", id))
		s.flash(c, "Program "+verb+".")
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/programs/%d", id))
	}
}

func (s *Server) sendRoundNow(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if s.jobs == nil {
		return tandem.Errorf(tandem.EUNAVAILABLE, "the scheduler is not running on this server")
	}
	r, created, err := s.jobs.SendNow(c.Request().Context(), id, s.now())
	if tandem.ErrorCode(err) == tandem.ECONFLICT {
		// A round is open or one started today: say so on the program.
		s.flash(c, tandem.ErrorMessage(err))
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/programs/%d", id))
	} else if err != nil {
		return err
	}
	if created {
		s.audit(c, "program.send_now", fmt.Sprintf("program %d round %d", id, r.ID))
		closes := tandem.InZone(r.ClosesAt, r.TimeZone)
		s.flash(c, fmt.Sprintf("Round %d is open until %s; invitations are on their way.", r.Seq, closes.Format("Mon 2 Jan 15:04 MST")))
	} else {
		s.flash(c, "A round was started a moment ago already.")
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/rounds/%d", r.ID))
}

// previewProgram shows the questionnaire the next round will ask.
func (s *Server) previewProgram(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.store.Program(ctx, id)
	if err != nil {
		return err
	}
	pool, err := s.store.ProgramPool(ctx, &p)
	if err != nil {
		return err
	}
	seq := 1
	if r, ok, err := s.store.LatestRound(ctx, id); err != nil {
		return err
	} else if ok {
		seq = r.Seq + 1
	}
	if v, err := strconv.Atoi(c.QueryParam("round")); err == nil && v > 0 {
		seq = v
	}
	qs := pulse.RoundQuestions(pool, &p, seq)
	// A round sent now would close when pulse plans it to.
	var closes time.Time
	if plan, err := p.PlanRound(s.now(), true); err == nil {
		closes = plan.ClosesAt
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	// The preview speaks any of the employees' languages (?lang=de), so
	// HR can read what each of them will see.
	lp := lang.For(lang.Choose(c.QueryParam(langParam)))
	links, _ := languageLinks(c, lp)
	for i := range links {
		links[i].Href += "&" + url.Values{"round": {strconv.Itoa(seq)}}.Encode()
	}
	var closesText string
	if !closes.IsZero() {
		closesText = lp.Date(tandem.InZone(closes, p.Cadence.Zone))
	}
	return s.render(c, "answer", pageData{Title: "Preview: " + p.Name, Nav: "programs", L: lp, Data: map[string]any{
		"Program": fmt.Sprintf("%s — preview of round %d", p.Name, seq), "Fields": answerFields(qs, nil, tree, lp), "K": p.MinGroup,
		"Closes": closesText, "Action": "", "Languages": links, "Preview": true, "Next": seq + 1, "ProgramID": p.ID,
	}})
}

func (s *Server) questionsPage(c echo.Context) error {
	return s.renderQuestions(c, http.StatusOK, map[string]string{"kind": "likert5"}, nil, "")
}

// questionsTrans is a translation form of one custom question that came
// back with a problem: what was entered and what is wrong.
type questionsTrans struct {
	ID    int64
	Form  map[string]string
	Error string
}

// renderQuestions shows the question bank and the form to add one; picked
// are the provider teams the form had selected.
func (s *Server) renderQuestions(c echo.Context, status int, form map[string]string, picked []int64, errMsg string) error {
	return s.renderQuestionsWith(c, status, form, picked, errMsg, questionsTrans{})
}

func (s *Server) renderQuestionsWith(c echo.Context, status int, form map[string]string, picked []int64, errMsg string, bad questionsTrans) error {
	qs, err := s.store.Questions(c.Request().Context())
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(c.Request().Context())
	if err != nil {
		return err
	}
	providerNames := map[int64]string{}
	for _, u := range tree.Walk() {
		providerNames[u.ID] = u.Path
	}
	selected := map[int64]bool{}
	for _, id := range picked {
		selected[id] = true
	}
	// Each custom question's translations, as stored or as just entered.
	trans := map[int64][]translationField{}
	translated := map[int64]int{}
	for _, q := range qs {
		if q.Builtin {
			continue
		}
		var entered map[string]string
		if q.ID == bad.ID {
			entered = bad.Form
		}
		trans[q.ID] = translationFields(q, entered)
		translated[q.ID] = len(q.Translations)
	}
	return s.renderStatus(c, status, "questions", pageData{Title: "Question bank", Nav: "programs", Data: map[string]any{
		"Questions": qs, "Drivers": pulse.Drivers, "Kinds": pulse.Kinds, "Form": form, "Picked": selected, "Error": errMsg,
		"Units": tree.Walk(), "UnitNames": providerNames,
		"NewTranslations": translationFields(pulse.Question{}, form), "Translations": trans, "Translated": translated, "Bad": bad,
	}})
}

func (s *Server) createQuestion(c echo.Context) error {
	form := map[string]string{"text": c.FormValue("text"), "kind": c.FormValue("kind"), "driver": c.FormValue("driver"), "choices": c.FormValue("choices")}
	q := &pulse.Question{Text: form["text"], Kind: pulse.Kind(form["kind"]), Driver: form["driver"], Choices: strings.Split(form["choices"], "\n")}
	q.Translations = translationsOf(c, form)
	params, _ := c.FormParams()
	for _, v := range params["providers"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return s.renderQuestions(c, http.StatusBadRequest, form, q.Providers, fmt.Sprintf("%q is not a team; pick the teams to rate from the list", v))
		}
		q.Providers = append(q.Providers, id)
	}
	picked := append([]int64(nil), q.Providers...) // Validate trims the list
	if err := s.store.CreateQuestion(c.Request().Context(), q); tandem.ErrorCode(err) == tandem.EINVALID {
		return s.renderQuestions(c, http.StatusBadRequest, form, picked, tandem.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	s.audit(c, "question.create", fmt.Sprintf("question %d (%s): %s%s", q.ID, q.Kind, q.Text, translatedInto(q.Translations)))
	s.flash(c, "Added the question. Add it to a program's pool to ask it.")
	return c.Redirect(http.StatusSeeOther, "/questions")
}

// translatedInto names the languages of translations for the audit log
// (" (translated: de, fr)").
func translatedInto(tr map[string]pulse.Translation) string {
	if len(tr) == 0 {
		return ""
	}
	codes := make([]string, 0, len(tr))
	for code := range tr {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	return " (translated: " + strings.Join(codes, ", ") + ")"
}

// setQuestionTranslations saves the translations of a custom question:
// the form holds every language, and an emptied language is removed.
func (s *Server) setQuestionTranslations(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	form := map[string]string{}
	tr := translationsOf(c, form)
	if err := s.store.SetQuestionTranslations(c.Request().Context(), id, tr); tandem.ErrorCode(err) == tandem.EINVALID {
		return s.renderQuestionsWith(c, http.StatusBadRequest, map[string]string{"kind": "likert5"}, nil, "",
			questionsTrans{ID: id, Form: form, Error: tandem.ErrorMessage(err)})
	} else if err != nil {
		return err
	}
	s.audit(c, "question.translate", fmt.Sprintf("question %d%s", id, translatedInto(tr)))
	s.flash(c, "Saved the translations. Employees see them from their next page load.")
	return c.Redirect(http.StatusSeeOther, "/questions")
}

func (s *Server) retireQuestion(retired bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		if err := s.store.SetQuestionRetired(c.Request().Context(), id, retired); err != nil {
			return err
		}
		s.audit(c, "question.retire", fmt.Sprintf("question %d retired=%v", id, retired))
		return c.Redirect(http.StatusSeeOther, "/questions")
	}
}
