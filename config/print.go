package config

import "go.yaml.in/yaml/v3"

const masked = "********"

// Masked is a copy of the config with every secret replaced, safe to print or log.
func (c *Config) Masked() *Config {
	m := *c
	if m.SIP.Trunk.Password != "" {
		m.SIP.Trunk.Password = masked
	}
	for _, p := range []*string{&m.Notify.SMTP.Password, &m.Notify.SMS.Password} {
		if *p != "" {
			*p = masked
		}
	}
	m.Webhooks = append([]Webhook(nil), c.Webhooks...)
	for i := range m.Webhooks {
		if m.Webhooks[i].Secret != "" {
			m.Webhooks[i].Secret = masked
		}
	}
	if c.PBX.Elks != nil {
		e := *c.PBX.Elks
		for _, p := range []*string{&e.Secret, &e.Password} {
			if *p != "" {
				*p = masked
			}
		}
		m.PBX.Elks = &e
	}
	m.PBX.Webhooks = append([]PBXWebhook(nil), c.PBX.Webhooks...)
	for i := range m.PBX.Webhooks {
		if m.PBX.Webhooks[i].Secret != "" {
			m.PBX.Webhooks[i].Secret = masked
		}
	}
	return &m
}

// YAML renders the config as a YAML document.
func (c *Config) YAML() ([]byte, error) { return yaml.Marshal(c) }
