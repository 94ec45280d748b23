package rpc

import "crypto/rand"

// newRequestID returns a random (version 4) UUID in upper case, the form
// the real API uses: 0ED8D006-F706-4D23-88ED-E11ED28DCAC0.
func newRequestID() string {
	var u [16]byte
	rand.Read(u[:]) // never fails (crypto/rand: Read panics rather than return an error)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80

	var s [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j] = upperHex[c>>4]
		s[j+1] = upperHex[c&15]
		j += 2
	}
	return string(s[:])
}
