package years

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/co2-calculator/co2-calculator/pkg/apperr"
	"github.com/co2-calculator/co2-calculator/pkg/audit"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
	"github.com/co2-calculator/co2-calculator/pkg/postgres"
	"github.com/co2-calculator/co2-calculator/pkg/postgres/dbsqlc"
)

// File is an uploaded file as it streams in.
type File struct {
	Name        string
	ContentType string
	Body        io.Reader
}

// objectiveTypes are the accepted extensions of a reduction-objective file
// and the content type stored with each.
var objectiveTypes = map[string]string{
	".csv":  "text/csv",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pdf":  "application/pdf",
}

// maxRowErrors is the number of row errors a refused CSV reports.
const maxRowErrors = 100

// errTooLarge is the 413 of a file past the limit.
var errTooLarge = errors.New("file too large")

// ReductionObjectives receives the reduction-objective file of dataset
// (footprint, population, scenarios) for year y (docs/api.md §7, docs/jobs.md
// §5.6). Every accepted file is kept in the blob store with an uploads row
// (kind reduction_objectives) and named in
// config.reduction_objectives.files.<dataset>; a CSV is parsed first, and
// its rows replace the dataset's list (institutional_footprint,
// population_projections, unit_scenarios) — any row error refuses the file
// with 422 and the row errors (at most 100), nothing stored. .xlsx and .pdf
// files are only stored. One transaction with the year.update event.
// Errors: 404 unknown year or dataset, 409 year_closed, 415 another
// extension, 413 past MaxBytes, 503 without a blob store.
func (s *Service) ReductionObjectives(ctx context.Context, y int32, dataset string, f File, by *int64) (View, error) {
	list, ok := ObjectiveDatasets[dataset]
	if !ok {
		return View{}, apperr.NotFound("unknown reduction-objective dataset %q", dataset)
	}
	if s.Blob == nil {
		return View{}, apperr.New(apperr.CodeUnavailable, "file storage is not configured")
	}
	ext := strings.ToLower(path.Ext(f.Name))
	contentType, ok := objectiveTypes[ext]
	if !ok {
		return View{}, apperr.New(apperr.CodeUnsupportedMedia, "a reduction-objective file is a .csv, .xlsx or .pdf file (got %q)", f.Name)
	}
	row, err := Get(ctx, dbsqlc.New(s.DB), y)
	if err != nil {
		return View{}, err
	}
	if Status(row.Status) == StatusClosed {
		return View{}, refuse(ReasonClosed, "year %d is closed: its configuration is frozen", y)
	}

	id := uuid.New()
	key := fmt.Sprintf("uploads/%d/%s%s", y, id, ext)
	limit := s.MaxBytes
	if limit <= 0 {
		limit = defaultMaxBytes
	}
	hs := &hashingReader{r: f.Body, h: sha256.New(), limit: limit}
	if _, err := s.Blob.Put(ctx, key, hs, -1, contentType); err != nil {
		if errors.Is(err, errTooLarge) || hs.n > limit {
			return View{}, apperr.New(apperr.CodeTooLarge, "the file exceeds %d bytes", limit)
		}
		return View{}, fmt.Errorf("error storing the file: %w", err)
	}
	discard := func() { _ = s.Blob.Delete(context.WithoutCancel(ctx), key) }

	var items []map[string]any
	if ext == ".csv" {
		if items, err = s.parseObjectives(ctx, key, dataset); err != nil {
			discard()
			return View{}, err
		}
	}
	uploadedAt := s.now().UTC().Truncate(time.Second)
	v, err := postgres.WithTxV(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) (View, error) {
		q := dbsqlc.New(tx)
		row, err := getForUpdate(ctx, q, y)
		if err != nil {
			return View{}, err
		}
		if Status(row.Status) == StatusClosed {
			return View{}, refuse(ReasonClosed, "year %d is closed: its configuration is frozen", y)
		}
		up, err := q.UploadInsert(ctx, dbsqlc.UploadInsertParams{ID: id, Kind: keyObjectives, Scope: keyYear, Year: y,
			Dataset: &dataset, BlobKey: key, Filename: &f.Name, ContentType: &contentType, SizeBytes: hs.n,
			Sha256: hex.EncodeToString(hs.h.Sum(nil)), Options: []byte(`{}`), UploadedBy: by})
		if err != nil {
			return View{}, fmt.Errorf("error recording the file: %w", err)
		}
		cfg, err := decodeObject(row.Config)
		if err != nil {
			cfg = map[string]any{}
		}
		patch := map[string]any{keyFiles: map[string]any{dataset: map[string]any{
			keyUploadID: up.ID.String(), keyFilename: f.Name, keyUploadedAt: uploadedAt.Format(time.RFC3339)}}}
		if items != nil {
			arr := make([]any, len(items))
			for i, it := range items {
				arr[i] = it
			}
			patch[list] = arr
		}
		merge(cfg, map[string]any{keyObjectives: patch})
		after, err := s.storeConfig(ctx, q, y, cfg)
		if err != nil {
			return View{}, err
		}
		payload := map[string]any{"dataset": dataset, "filename": f.Name, "size_bytes": hs.n, "upload_id": up.ID.String()}
		if items != nil {
			payload["rows"] = len(items)
		}
		if err := audit.Record(ctx, tx, by, audit.Event{Action: audit.ActionUpdate, Event: EventUpdate,
			EntityType: entityYear, EntityID: strconv.Itoa(int(y)), Snapshot: snapshot(after), RequestPayload: payload}); err != nil {
			return View{}, fmt.Errorf("error auditing year.update: %w", err)
		}
		return ToView(after), nil
	})
	if err != nil {
		discard()
	}
	return v, err
}

// parseObjectives reads the stored CSV: 422 csv_header_invalid or
// csv_encoding_invalid for the header, 422 with the row errors when a row
// is invalid or the file has no row.
func (s *Service) parseObjectives(ctx context.Context, key, dataset string) ([]map[string]any, error) {
	rc, _, err := s.Blob.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("error reading the stored file: %w", err)
	}
	defer rc.Close()
	tbl, err := ingest.ObjectivesTable(dataset)
	if err != nil {
		return nil, err
	}
	p, err := ingest.NewObjectivesParser(dataset)
	if err != nil {
		return nil, err
	}
	r, err := ingest.NewReader(rc, tbl, nil)
	if err != nil {
		return nil, fileError(err)
	}
	var details []apperr.FieldError
	total := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fileError(err)
		}
		for _, e := range p.Parse(rec) {
			if e.Severity != ingest.SeverityError {
				continue
			}
			total++
			if len(details) < maxRowErrors {
				details = append(details, apperr.FieldError{Field: e.ColumnName(), Code: e.Code,
					Message: fmt.Sprintf("row %d: %s", e.Row, e.Message),
					Context: map[string]any{"row": e.Row, "line": e.Line, "value": e.Value}})
			}
		}
	}
	if total > 0 {
		return nil, &apperr.Error{Code: apperr.CodeValidation, Message: fmt.Sprintf("%d row errors: nothing stored", total), Fields: details}
	}
	if len(p.Items()) == 0 {
		return nil, apperr.Validation("the file has no row", apperr.FieldError{Field: "file", Code: ingest.CodeEmptyFile, Message: "the file has no row"})
	}
	return p.Items(), nil
}

// fileError maps a whole-file rejection of the reader to 422.
func fileError(err error) error {
	fe, ok := errors.AsType[*ingest.FileError](err)
	if !ok {
		return fmt.Errorf("error reading the file: %w", err)
	}
	reason := apperr.Reason("csv_header_invalid")
	switch fe.Code {
	case ingest.CodeEncodingInvalid:
		reason = "csv_encoding_invalid"
	case ingest.CodeMissingColumns, ingest.CodeDuplicateColumn:
	default:
		reason = ""
	}
	detail := apperr.FieldError{Field: "file", Code: fe.Code, Message: fe.Message}
	if len(fe.Columns) > 0 {
		key := "columns"
		if fe.Code == ingest.CodeMissingColumns {
			key = "missing_columns"
		}
		detail.Context = map[string]any{key: fe.Columns}
	}
	return &apperr.Error{Code: apperr.CodeValidation, Reason: reason, Message: fe.Message, Fields: []apperr.FieldError{detail}}
}

// hashingReader hashes and counts what it reads, failing past limit.
type hashingReader struct {
	r     io.Reader
	h     hash.Hash
	n     int64
	limit int64
}

func (u *hashingReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	u.n += int64(n)
	if u.n > u.limit {
		return 0, errTooLarge
	}
	u.h.Write(p[:n])
	return n, err
}
