package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/pulse"
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
	Cadence  string
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
		row := programRow{Program: p, Cadence: cadenceLabel(p.Cron)}
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
	return s.render(c, "programs", pageData{Title: "Pulse programs", Nav: "programs", Data: map[string]any{"Rows": rows}})
}

func cadenceLabel(cron string) string {
	for _, p := range pulse.Presets {
		if p.Cron == cron {
			return p.Label
		}
	}
	return "cron " + cron
}

// programForm is the program form's values as typed.
type programForm map[string]string

func formOf(p pulse.Program) programForm {
	f := programForm{
		"name": p.Name, "audience": strconv.FormatInt(p.AudienceUnitID, 10), "cron": p.Cron, "timezone": p.TimeZone,
		"window_days": strconv.Itoa(p.WindowDays), "reminder_days": strconv.Itoa(p.ReminderDays),
		"questions_per_round": strconv.Itoa(p.QuestionsPerRound), "driver_cycle": strconv.Itoa(p.DriverCycle),
		"core_every": strconv.Itoa(p.CoreEvery), "min_group": strconv.Itoa(p.MinGroup), "channel": p.Channel,
		"preset": "custom",
	}
	for _, pr := range pulse.Presets {
		if pr.Cron == p.Cron {
			f["preset"] = pr.Key
		}
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

func (s *Server) programFromForm(c echo.Context, p *pulse.Program) (programForm, error) {
	f := programForm{}
	for _, k := range []string{"name", "audience", "preset", "cron", "timezone", "window_days", "reminder_days", "questions_per_round", "driver_cycle", "core_every", "min_group", "channel"} {
		f[k] = strings.TrimSpace(c.FormValue(k))
	}
	params, _ := c.FormParams()
	f["excluded"] = strings.Join(params["excluded"], ",")
	f["questions"] = strings.Join(params["questions"], ",")
	p.Name = f["name"]
	var err error
	num := func(key, label string) int {
		if err != nil {
			return 0
		}
		v, e := strconv.Atoi(f[key])
		if e != nil {
			err = tandem.FieldErrorf(key, "%s must be a whole number", label)
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
	if err != nil {
		return f, err
	}
	p.Cron = f["cron"]
	for _, pr := range pulse.Presets {
		if f["preset"] == pr.Key {
			p.Cron = pr.Cron
			f["cron"] = pr.Cron
		}
	}
	p.TimeZone, p.Channel = f["timezone"], f["channel"]
	p.ExcludedUnits = nil
	for _, x := range params["excluded"] {
		id, e := strconv.ParseInt(x, 10, 64)
		if e != nil {
			return f, tandem.FieldErrorf("excluded", "%q is not a unit", x)
		}
		p.ExcludedUnits = append(p.ExcludedUnits, id)
	}
	p.QuestionIDs = nil
	for _, x := range params["questions"] {
		id, e := strconv.ParseInt(x, 10, 64)
		if e != nil {
			return f, tandem.FieldErrorf("questions", "%q is not a question", x)
		}
		p.QuestionIDs = append(p.QuestionIDs, id)
	}
	return f, p.Validate()
}

func (s *Server) newProgramPage(c echo.Context) error {
	p := pulse.Defaults()
	tree, err := s.store.Tree(c.Request().Context())
	if err != nil {
		return err
	}
	if roots := tree.Roots(); len(roots) > 0 {
		p.AudienceUnitID = roots[0]
	}
	return s.renderProgramForm(c, http.StatusOK, p, formOf(p), "")
}

func (s *Server) renderProgramForm(c echo.Context, status int, p pulse.Program, f programForm, errMsg string) error {
	tree, err := s.store.Tree(c.Request().Context())
	if err != nil {
		return err
	}
	var schedule string
	if sch, err := pulse.ParseSchedule(f["cron"], f["timezone"]); err == nil {
		schedule = sch.Describe(s.now())
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
	return s.renderStatus(c, status, "program_form", pageData{Title: title, Nav: "programs", Data: map[string]any{
		"Program": p, "Form": f, "Error": errMsg, "Units": tree.Walk(), "Presets": pulse.Presets, "Excluded": excluded,
		"Schedule": schedule, "Zones": commonZones, "Questions": qs, "Chosen": chosen,
	}})
}

// commonZones are offered in the form; any IANA name can be typed.
var commonZones = []string{"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Berlin", "Europe/Paris", "Europe/Madrid",
	"Europe/Warsaw", "Europe/Helsinki", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
	"America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney"}

func (s *Server) createProgram(c echo.Context) error {
	p := pulse.Defaults()
	f, err := s.programFromForm(c, &p)
	if err == nil {
		err = s.store.SaveProgram(c.Request().Context(), &p)
	}
	if code := tandem.ErrorCode(err); code == tandem.EINVALID {
		return s.renderProgramForm(c, http.StatusBadRequest, p, f, tandem.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	s.syncJobs(c)
	s.audit(c, "program.create", fmt.Sprintf("program %d %q, cron %q %s", p.ID, p.Name, p.Cron, p.TimeZone))
	s.flash(c, "Created "+p.Name+". Rounds start on its schedule; use “Send a round now” to start one today.")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/programs/%d", p.ID))
}

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
	var upcoming []time.Time
	if sch, err := pulse.ParseSchedule(p.Cron, p.TimeZone); err == nil {
		for _, t := range sch.Upcoming(s.now(), 3) {
			upcoming = append(upcoming, t.In(sch.Location()))
		}
	}
	audience := ""
	if u := tree.Unit(p.AudienceUnitID); u != nil {
		audience = u.Path
	}
	return s.render(c, "program", pageData{Title: p.Name, Nav: "programs", Data: map[string]any{
		"Program": p, "Rounds": rounds, "NextRun": next, "Upcoming": upcoming, "Audience": audience, "Cadence": cadenceLabel(p.Cron),
	}})
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
	return s.renderProgramForm(c, http.StatusOK, p, formOf(p), "")
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
	f, err := s.programFromForm(c, &p)
	if err == nil {
		err = s.store.SaveProgram(ctx, &p)
	}
	if code := tandem.ErrorCode(err); code == tandem.EINVALID {
		return s.renderProgramForm(c, http.StatusBadRequest, p, f, tandem.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	s.syncJobs(c)
	s.audit(c, "program.update", fmt.Sprintf("program %d %q, cron %q %s, k %d", p.ID, p.Name, p.Cron, p.TimeZone, p.MinGroup))
	s.flash(c, "Saved "+p.Name+".")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/programs/%d", p.ID))
}

func (s *Server) setProgramActive(active bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := paramID(c, "id")
		if err != nil {
			return err
		}
		if err := s.store.SetProgramActive(c.Request().Context(), id, active); err != nil {
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
	if err != nil {
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
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	return s.render(c, "answer", pageData{Title: "Preview: " + p.Name, Nav: "programs", Data: map[string]any{
		"Program": fmt.Sprintf("%s — preview of round %d", p.Name, seq), "Fields": answerFields(qs, nil, tree), "K": p.MinGroup,
		"Closes": s.now().AddDate(0, 0, p.WindowDays), "Zone": p.TimeZone, "Action": "", "Preview": true, "Next": seq + 1, "ProgramID": p.ID,
	}})
}

func (s *Server) questionsPage(c echo.Context) error {
	return s.renderQuestions(c, http.StatusOK, map[string]string{"kind": "likert5"}, nil, "")
}

// renderQuestions shows the question bank and the form to add one; picked
// are the provider teams the form had selected.
func (s *Server) renderQuestions(c echo.Context, status int, form map[string]string, picked []int64, errMsg string) error {
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
	return s.renderStatus(c, status, "questions", pageData{Title: "Question bank", Nav: "programs", Data: map[string]any{
		"Questions": qs, "Drivers": pulse.Drivers, "Kinds": pulse.Kinds, "Form": form, "Picked": selected, "Error": errMsg,
		"Units": tree.Walk(), "UnitNames": providerNames,
	}})
}

func (s *Server) createQuestion(c echo.Context) error {
	form := map[string]string{"text": c.FormValue("text"), "kind": c.FormValue("kind"), "driver": c.FormValue("driver"), "choices": c.FormValue("choices")}
	q := &pulse.Question{Text: form["text"], Kind: pulse.Kind(form["kind"]), Driver: form["driver"], Choices: strings.Split(form["choices"], "\n")}
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
	s.audit(c, "question.create", fmt.Sprintf("question %d (%s): %s", q.ID, q.Kind, q.Text))
	s.flash(c, "Added the question. Add it to a program's pool to ask it.")
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
