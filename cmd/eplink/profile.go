package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"eplink/controlplane/lab"
)

// profileFile is what `eplink serve` writes so that `eplink api` and
// `eplink status` find the server and the lab's AccessKeys without flags,
// in the manner of the aliyun CLI's config.json. Several servers may run
// at once: every profile carries its own server, and a server adds its
// profiles next to those of the others (it never takes over a name a live
// server holds) and removes them when it stops.
type profileFile struct {
	Endpoint string             `json:"endpoint"` // the current profile's API host:port
	DNS      string             `json:"dns"`      // the current profile's DNS host:port
	Region   string             `json:"region"`
	Current  string             `json:"current"` // profile used when --profile is not given
	Profiles map[string]profile `json:"profiles"`
}

// instanceInfo is an ECS instance of a running netns lab.
type instanceInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	VpcID     string `json:"vpc_id"`
	VSwitchID string `json:"vswitch_id"`
	IP        string `json:"ip"`
	Namespace string `json:"namespace"`
	// UsernsPID is the eplink whose user namespace holds the namespace
	// (rootless); 0 means the host's /run/netns.
	UsernsPID int `json:"userns_pid,omitempty"`
}

type profile struct {
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
	UID             string `json:"uid"`
	// The server the profile belongs to; empty in files written by hand
	// (the file's top-level endpoint applies).
	Endpoint string `json:"endpoint,omitempty"`
	DNS      string `json:"dns,omitempty"`
	Region   string `json:"region,omitempty"`
	PID      int    `json:"pid,omitempty"` // of the eplink serving Endpoint
	// LabKey is what the server's lab API (/lab/…) requires, if anything.
	LabKey string `json:"lab_key,omitempty"`
	// Instances are the server's ECS hosts (netns front end), for
	// `eplink exec` and `eplink status`.
	Instances []instanceInfo `json:"instances,omitempty"`
}

// gone reports whether the eplink that wrote the profile has exited. The
// profile file is this host's, so its process ids are too.
func (p profile) gone() bool {
	return p.PID > 0 && !processAlive(p.PID)
}

// processAlive is kill(pid, 0): ESRCH means no such process (EPERM means
// there is one, owned by someone else).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// profilePath is $EPLINK_CONFIG, else $XDG_CONFIG_HOME/eplink/config.json,
// else ~/.config/eplink/config.json.
func profilePath() (string, error) {
	if p := os.Getenv("EPLINK_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "eplink", "config.json"), nil
}

// loadProfile reads the profile file; a missing file is (nil, nil).
func loadProfile() (*profileFile, error) {
	path, err := profilePath()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pf profileFile
	if err := json.Unmarshal(data, &pf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if pf.Profiles == nil {
		pf.Profiles = map[string]profile{}
	}
	return &pf, nil
}

// saveProfile writes the profile file atomically (0600: it holds secrets).
func saveProfile(pf *profileFile) (string, error) {
	path, err := profilePath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(pf, "", "  ")
	if err != nil {
		return "", err
	}
	tmp := path + ".tmp." + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// lockProfile takes an exclusive lock beside the profile file, so that two
// servers starting or stopping at once do not lose each other's profiles
// (each reads, changes and rewrites the file).
func lockProfile() (unlock func(), err error) {
	path, err := profilePath()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// writtenProfiles says what writeProfile did, for the user.
type writtenProfiles struct {
	Path    string
	Names   []string // this server's profiles, in the lab's account order
	Current bool     // whether one of them is now the default
	Others  string   // the live server whose names were left alone, if any
	Suffix  string   // added to the account names ("-2"), "" if none
}

// writeProfile adds this server's profiles (the first AccessKey of each
// lab account, named after the account) to the profile file. Profiles of
// servers that have exited are dropped; names a live server holds are kept
// for it, and this server's get a suffix (consumer-2). The default profile
// moves to this server only if the old default's server is gone.
func writeProfile(l *lab.Lab, info startInfo, pid int) (writtenProfiles, error) {
	var w writtenProfiles
	unlock, err := lockProfile()
	if err != nil {
		return w, err
	}
	defer unlock()
	pf, err := loadProfile()
	if err != nil {
		return w, err
	}
	if pf == nil {
		pf = &profileFile{Profiles: map[string]profile{}}
	}
	for name, p := range pf.Profiles {
		// Entries without a server of their own were written by an older
		// eplink, which kept one server per file: they are replaced.
		if p.gone() || p.PID == pid || p.PID == 0 && p.Endpoint == "" {
			delete(pf.Profiles, name)
		}
	}
	type account struct {
		name string
		p    profile
	}
	var accounts []account
	for _, a := range l.Accounts {
		if len(a.AccessKeys) == 0 {
			continue
		}
		name := a.Name
		if name == "" {
			name = a.UID
		}
		accounts = append(accounts, account{name, profile{
			AccessKeyID: a.AccessKeys[0].ID, AccessKeySecret: a.AccessKeys[0].Secret, UID: a.UID,
			Endpoint: info.API, DNS: info.DNS, Region: l.Region, PID: pid, LabKey: info.LabKey,
			Instances: instanceInfos(l, info.NetnsPrefix),
		}})
	}
	// One suffix for all accounts, so that provider-2 and consumer-2 go
	// together.
	suffix := ""
	for n := 2; ; n++ {
		taken := ""
		for _, a := range accounts {
			if old, ok := pf.Profiles[a.name+suffix]; ok {
				taken = orDefault(old.Endpoint, "?")
				break
			}
		}
		if taken == "" {
			break
		}
		if w.Others == "" {
			w.Others = taken
		}
		suffix = "-" + strconv.Itoa(n)
	}
	w.Suffix = suffix
	for _, a := range accounts {
		pf.Profiles[a.name+suffix] = a.p
		w.Names = append(w.Names, a.name+suffix)
	}
	if cur, ok := pf.Profiles[pf.Current]; !ok || cur.PID == pid {
		pf.Current = ""
		if len(w.Names) > 0 {
			pf.Current = w.Names[0]
			w.Current = true
		}
	}
	pf.setTop()
	w.Path, err = saveProfile(pf)
	return w, err
}

// setTop copies the current profile's server to the file's top level,
// which older readers and `eplink fault` use.
func (pf *profileFile) setTop() {
	if cur, ok := pf.Profiles[pf.Current]; ok && cur.Endpoint != "" {
		pf.Endpoint, pf.DNS, pf.Region = cur.Endpoint, cur.DNS, cur.Region
	} else if !ok {
		pf.Current, pf.Endpoint, pf.DNS, pf.Region = "", "", "", ""
	}
}

// removeProfiles drops this server's profiles as it stops, so that no
// profile points at a port nobody serves; the default passes to another
// live server's profile, if there is one.
func removeProfiles(pid int) error {
	unlock, err := lockProfile()
	if err != nil {
		return err
	}
	defer unlock()
	pf, err := loadProfile()
	if err != nil || pf == nil {
		return err
	}
	changed := false
	for name, p := range pf.Profiles {
		if p.PID == pid || p.gone() {
			delete(pf.Profiles, name)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if _, ok := pf.Profiles[pf.Current]; !ok {
		names := profileNames(pf)
		pf.Current = ""
		if len(names) > 0 {
			pf.Current = names[0]
		}
	}
	pf.setTop()
	_, err = saveProfile(pf)
	return err
}

// describe is the line `eplink serve` prints about the profiles it wrote.
func (w writtenProfiles) describe() string {
	if len(w.Names) == 0 {
		return ""
	}
	s := fmt.Sprintf("CLI profiles %s written to %s (eplink api --profile %s …)",
		strings.Join(w.Names, ", "), w.Path, w.Names[len(w.Names)-1])
	if w.Others != "" {
		s += fmt.Sprintf("; the names without a suffix belong to the eplink at %s, which is still running", w.Others)
	}
	if !w.Current {
		s += "; the default profile stays with that server, so pass --profile"
	}
	return s
}

func profileNames(pf *profileFile) []string {
	names := make([]string, 0, len(pf.Profiles))
	for n := range pf.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
