package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// profileFile is what `eplink serve` writes so that `eplink api` and
// `eplink status` find the server and the lab's AccessKeys without flags,
// in the manner of the aliyun CLI's config.json.
type profileFile struct {
	Endpoint string             `json:"endpoint"` // API host:port
	DNS      string             `json:"dns"`      // DNS host:port
	Region   string             `json:"region"`
	Current  string             `json:"current"` // profile used when --profile is not given
	Profiles map[string]profile `json:"profiles"`
	// Instances are the netns front end's ECS hosts, for `eplink exec`
	// and `eplink status`.
	Instances []instanceInfo `json:"instances,omitempty"`
}

// instanceInfo is an ECS instance of a running netns lab.
type instanceInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	VpcID     string `json:"vpc_id"`
	VSwitchID string `json:"vswitch_id"`
	IP        string `json:"ip"`
	Namespace string `json:"namespace"`
}

type profile struct {
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
	UID             string `json:"uid"`
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
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}
