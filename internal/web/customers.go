package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/ratings"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// maxRatingsUpload is the largest ratings file taken through the web; the
// command line takes any size.
const maxRatingsUpload = 16 << 20

const uploadKindRatings = "ratings"

// ratingsForm is how to read an uploaded file: the defaults and the
// column mapping, kept with the upload between the dry run and the apply.
type ratingsForm struct {
	Source, Metric string
	// Map is mapping key (time, score, …) → header.
	Map map[string]string
}

func readRatingsForm(get func(string) string) ratingsForm {
	f := ratingsForm{Source: strings.TrimSpace(get("source")), Metric: strings.TrimSpace(get("metric")), Map: map[string]string{}}
	for _, mf := range ratings.MappingFields {
		if v := strings.TrimSpace(get("map_" + mf.Key)); v != "" {
			f.Map[mf.Key] = v
		}
	}
	return f
}

func (f ratingsForm) encode() string {
	v := url.Values{}
	v.Set("source", f.Source)
	v.Set("metric", f.Metric)
	for k, h := range f.Map {
		v.Set("map_"+k, h)
	}
	return v.Encode()
}

func decodeRatingsForm(s string) ratingsForm {
	v, _ := url.ParseQuery(s)
	return readRatingsForm(v.Get)
}

// mappingRow is one field of the mapping form: its current column.
type mappingRow struct {
	ratings.MappingField
	Header string
}

func (f ratingsForm) rows() []mappingRow {
	out := make([]mappingRow, 0, len(ratings.MappingFields))
	for _, mf := range ratings.MappingFields {
		out = append(out, mappingRow{MappingField: mf, Header: f.Map[mf.Key]})
	}
	return out
}

func (s *Server) ratingsImportPage(c echo.Context) error {
	return s.render(c, "ratings_import", pageData{Title: "Import customer ratings", Nav: "ratings",
		Data: map[string]any{"Form": ratingsForm{Map: map[string]string{}}, "Mapping": ratingsForm{}.rows()}})
}

// ratingsUpload keeps the uploaded file (in the database, so any replica
// can apply it) and shows its dry run.
func (s *Server) ratingsUpload(c echo.Context) error {
	form := readRatingsForm(c.FormValue)
	fail := func(status int, msg string) error {
		return s.renderStatus(c, status, "ratings_import", pageData{Title: "Import customer ratings", Nav: "ratings",
			Data: map[string]any{"Error": msg, "Form": form, "Mapping": form.rows()}})
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return fail(http.StatusBadRequest, "Choose a CSV file to upload.")
	}
	if fh.Size > maxRatingsUpload {
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is %d MB; the limit here is %d MB. Split it into smaller files (an administrator can import a larger one on the server).",
			fh.Size>>20, maxRatingsUpload>>20))
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRatingsUpload+1))
	if err != nil {
		return err
	}
	return s.keepAndCheck(c, store.Upload{UserID: currentUser(c).ID, Kind: uploadKindRatings, Filename: fh.Filename,
		Options: form.encode(), Data: data})
}

// ratingsRecheck reads a kept upload again with another mapping.
func (s *Server) ratingsRecheck(c echo.Context) error {
	up, err := s.ratingsUploadOf(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUpload(c.Request().Context(), up.IDHash); err != nil {
		return err
	}
	up.Options = readRatingsForm(c.FormValue).encode()
	return s.keepAndCheck(c, up)
}

func (s *Server) ratingsUploadOf(c echo.Context) (store.Upload, error) {
	up, err := s.store.Upload(c.Request().Context(), auth.HashToken(c.Param("upload")), currentUser(c).ID, s.now())
	if err == nil && up.Kind != uploadKindRatings {
		err = tandem.Errorf(tandem.ENOTFOUND, "This upload is not a ratings file; upload it again on the ratings import page.")
	}
	return up, err
}

// checkRatings reads a ratings file against the organisation as it is now.
func (s *Server) checkRatings(c echo.Context, data []byte, form ratingsForm) (*ratings.Batch, ratings.Columns, error) {
	dir, err := s.store.RatingDirectory(c.Request().Context())
	if err != nil {
		return nil, ratings.Columns{}, err
	}
	b := ratings.NewBatch(dir, s.now())
	cols, err := ratings.ReadCSV(bytes.NewReader(data), ratings.CSVOptions{Mapping: form.Map, Source: form.Source, Metric: form.Metric, OnForm: true}, b)
	return b, cols, err
}

// maxShownProblems is how many problems a page lists.
const maxShownProblems = 500

// keepAndCheck saves up under a new token and shows its dry run: the
// problems by line and column, or what applying it would do. The upload
// is kept either way, so that the mapping can be changed without sending
// the file again.
func (s *Server) keepAndCheck(c echo.Context, up store.Upload) error {
	ctx := c.Request().Context()
	form := decodeRatingsForm(up.Options)
	b, cols, err := s.checkRatings(c, up.Data, form)
	if err != nil {
		return err
	}
	token := auth.NewToken()
	now := s.now()
	up.IDHash = auth.HashToken(token)
	if err := s.store.SaveUpload(ctx, up, now, now.Add(time.Hour)); err != nil {
		return err
	}
	// The column selects show what was read: the mapping, else the
	// column Tandem found.
	remap := form.rows()
	for i := range remap {
		if remap[i].Header == "" {
			remap[i].Header = cols.Used[remap[i].Field]
		}
	}
	data := map[string]any{"Filename": up.Filename, "Token": token, "Form": form, "Mapping": form.rows(), "Remap": remap,
		"Header": cols.Header, "Columns": cols}
	if err := b.Err(); err != nil {
		var e *ratings.Error
		if !errors.As(err, &e) {
			return err
		}
		shown := e.Errors
		if len(shown) > maxShownProblems {
			shown = shown[:maxShownProblems]
		}
		data["RowErrors"], data["ErrorTotal"], data["ErrorRows"], data["Hidden"] = shown, e.Total, e.Rows, e.Total-len(shown)
		return s.renderStatus(c, http.StatusUnprocessableEntity, "ratings_import", pageData{Title: "Import customer ratings", Nav: "ratings", Data: data})
	}
	distinct, repeats := b.Distinct()
	stored, err := s.store.CountStoredRatings(ctx, distinct)
	if err != nil {
		return err
	}
	var used []mappingRow
	for _, mf := range ratings.MappingFields {
		if h, ok := cols.Used[mf.Field]; ok {
			used = append(used, mappingRow{MappingField: mf, Header: h})
		}
	}
	data["Summary"], data["Samples"], data["Used"] = b.Summary(), b.Samples(), used
	data["ToAdd"], data["Stored"], data["Repeats"] = len(distinct)-stored, stored, repeats
	return s.render(c, "ratings_preview", pageData{Title: "Check the ratings", Nav: "ratings", Data: data})
}

// ratingsApply checks the kept file again (the roster may have changed
// since the dry run) and stores it in one transaction.
func (s *Server) ratingsApply(c echo.Context) error {
	ctx := c.Request().Context()
	up, err := s.ratingsUploadOf(c)
	if err != nil {
		return err
	}
	form := decodeRatingsForm(up.Options)
	b, _, err := s.checkRatings(c, up.Data, form)
	if err != nil {
		return err
	}
	if b.Err() != nil {
		if err := s.store.DeleteUpload(ctx, up.IDHash); err != nil {
			return err
		}
		return s.keepAndCheck(c, up)
	}
	res, err := s.store.IngestRatings(ctx, b.Ratings(), s.now())
	if err != nil {
		return err
	}
	if err := s.store.DeleteUpload(ctx, up.IDHash); err != nil {
		return err
	}
	msg := fmt.Sprintf("Imported %s: %d ratings added, %d duplicates skipped (stored already or repeated in the file), %d unrated rows skipped.",
		up.Filename, res.Accepted, res.Duplicates, b.Summary().Unrated)
	s.audit(c, "ratings.import", msg)
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/ratings/import")
}
