package dprintf

import (
	"strconv"
	"time"
)

// appendStrftime appends t formatted with the strftime(3) format f, the way
// dprintf's formatTimeHeader formats DEBUG_TIME_FORMAT. It supports the
// C99/POSIX conversions in the C locale, except that %n gives a space so a
// line is never split; an unknown conversion is copied through unchanged,
// as glibc does.
func appendStrftime(b []byte, f string, t time.Time) []byte {
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' || i+1 == len(f) {
			b = append(b, c)
			continue
		}
		i++
		switch f[i] {
		case '%':
			b = append(b, '%')
		case 'a':
			b = append(b, t.Weekday().String()[:3]...)
		case 'A':
			b = append(b, t.Weekday().String()...)
		case 'b', 'h':
			b = append(b, t.Month().String()[:3]...)
		case 'B':
			b = append(b, t.Month().String()...)
		case 'c':
			b = appendStrftime(b, "%a %b %e %H:%M:%S %Y", t)
		case 'C':
			b = pad(b, t.Year()/100, 2, '0')
		case 'd':
			b = pad(b, t.Day(), 2, '0')
		case 'D', 'x':
			b = appendStrftime(b, "%m/%d/%y", t)
		case 'e':
			b = pad(b, t.Day(), 2, ' ')
		case 'F':
			b = appendStrftime(b, "%Y-%m-%d", t)
		case 'g':
			y, _ := t.ISOWeek()
			b = pad(b, y%100, 2, '0')
		case 'G':
			y, _ := t.ISOWeek()
			b = strconv.AppendInt(b, int64(y), 10)
		case 'H':
			b = pad(b, t.Hour(), 2, '0')
		case 'I':
			b = pad(b, hour12(t), 2, '0')
		case 'j':
			b = pad(b, t.YearDay(), 3, '0')
		case 'k':
			b = pad(b, t.Hour(), 2, ' ')
		case 'l':
			b = pad(b, hour12(t), 2, ' ')
		case 'm':
			b = pad(b, int(t.Month()), 2, '0')
		case 'M':
			b = pad(b, t.Minute(), 2, '0')
		case 'n':
			// A newline would split every log line in two; keep lines whole.
			b = append(b, ' ')
		case 'p':
			if t.Hour() < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'r':
			b = appendStrftime(b, "%I:%M:%S %p", t)
		case 'R':
			b = appendStrftime(b, "%H:%M", t)
		case 's':
			b = strconv.AppendInt(b, t.Unix(), 10)
		case 'S':
			b = pad(b, t.Second(), 2, '0')
		case 't':
			b = append(b, '\t')
		case 'T', 'X':
			b = appendStrftime(b, "%H:%M:%S", t)
		case 'u':
			b = strconv.AppendInt(b, int64((int(t.Weekday())+6)%7+1), 10)
		case 'U':
			b = pad(b, (t.YearDay()+6-int(t.Weekday()))/7, 2, '0')
		case 'V':
			_, w := t.ISOWeek()
			b = pad(b, w, 2, '0')
		case 'w':
			b = strconv.AppendInt(b, int64(t.Weekday()), 10)
		case 'W':
			b = pad(b, (t.YearDay()+6-(int(t.Weekday())+6)%7)/7, 2, '0')
		case 'y':
			b = pad(b, t.Year()%100, 2, '0')
		case 'Y':
			b = strconv.AppendInt(b, int64(t.Year()), 10)
		case 'z':
			b = t.AppendFormat(b, "-0700")
		case 'Z':
			b = t.AppendFormat(b, "MST")
		default:
			b = append(b, '%', f[i])
		}
	}
	return b
}

func hour12(t time.Time) int {
	if h := t.Hour() % 12; h != 0 {
		return h
	}
	return 12
}

// pad appends n (non-negative) padded on the left with p to width w.
func pad(b []byte, n, w int, p byte) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < w; i++ {
		b = append(b, p)
	}
	return append(b, s...)
}
