package tableau

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/co2-calculator/co2-calculator/pkg/emission"
	"github.com/co2-calculator/co2-calculator/pkg/ingest"
)

// spool holds the valid trips of the fetch phase in a temporary file for
// the passes of the load phase: the sync's memory stays that of one page,
// whatever the year's size. A record is: uvarint row, varint unit, a flag
// byte (1: kg override present) and the override's 8 bytes, then the
// owner and the data, each as uvarint length + bytes.
type spool struct {
	f   *os.File
	w   *bufio.Writer
	buf []byte
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "tableau-sync-*.spool")
	if err != nil {
		return nil, fmt.Errorf("error creating the sync's spool file: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (s *spool) add(m Mapped) error {
	r := m.Row
	b := binary.AppendUvarint(s.buf[:0], uint64(r.Row))
	b = binary.AppendVarint(b, m.UnitID)
	if r.KgOverride != nil {
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*r.KgOverride))
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(r.OwnerSciper)))
	b = append(b, r.OwnerSciper...)
	b = binary.AppendUvarint(b, uint64(len(r.Data)))
	b = append(b, r.Data...)
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("error writing the sync's spool file: %w", err)
	}
	return nil
}

// each reads the trips back in order (after every add).
func (s *spool) each(fn func(row ingest.DataRow, unit int64) error) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("error writing the sync's spool file: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("error reading the sync's spool file: %w", err)
	}
	r := bufio.NewReaderSize(s.f, 256<<10)
	for {
		row, unit, err := readSpooled(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("error reading the sync's spool file: %w", err)
		}
		if err := fn(row, unit); err != nil {
			return err
		}
	}
}

// readSpooled reads one record; io.EOF at a record boundary only.
func readSpooled(r *bufio.Reader) (ingest.DataRow, int64, error) {
	row := ingest.DataRow{Module: emission.ModuleProfessionalTravel, Submodule: emission.SubPlane}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return row, 0, err // io.EOF: no more records
	}
	row.Row = int(n)
	unit, err := binary.ReadVarint(r)
	if err != nil {
		return row, 0, noEOF(err)
	}
	flag, err := r.ReadByte()
	if err != nil {
		return row, 0, noEOF(err)
	}
	if flag == 1 {
		var kg [8]byte
		if _, err := io.ReadFull(r, kg[:]); err != nil {
			return row, 0, noEOF(err)
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(kg[:]))
		row.KgOverride = &v
	}
	owner, err := readBytes(r)
	if err != nil {
		return row, 0, err
	}
	row.OwnerSciper = string(owner)
	if row.Data, err = readBytes(r); err != nil {
		return row, 0, err
	}
	return row, unit, nil
}

func readBytes(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, noEOF(err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, noEOF(err)
	}
	return b, nil
}

// noEOF turns an end of file inside a record into an error.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// remove deletes the file.
func (s *spool) remove() {
	_ = s.f.Close()
	_ = os.Remove(s.f.Name())
}
