package elks

import (
	"fmt"
	"slices"

	"github.com/peerline/peerline/config"
)

// Limits says, per line, what of its config 46elks cannot carry out: the
// office sees it in `config check` (english) and on the Linjen page (swedish,
// by line id).
func Limits(cfg *config.Config) (english []string, swedish map[string][]string) {
	if cfg.PBX.Elks == nil {
		return nil, nil
	}
	swedish = map[string][]string{}
	for _, l := range cfg.Lines {
		at := fmt.Sprintf("lines[%s]", l.ID)
		add := func(en, sv string) { english, swedish[l.ID] = append(english, en), append(swedish[l.ID], sv) }
		if l.Calls.Limit > 0 && len(l.Calls.Warnings) > 0 {
			add(at+": 46elks plays nothing to one side of a connected call: the agent hears no time warnings",
				"Samtalsledaren hör inga varningar om tiden (46elks spelar inget för en part i ett kopplat samtal)")
		}
		if l.Calls.Limit > 0 && l.Calls.HardStop {
			add(at+": 46elks cannot end a connected call at the limit: calls.limit is not enforced",
				"Samtalen bryts inte vid tidsgränsen (46elks kan inte avsluta ett kopplat samtal)")
		}
		if l.Keys.EndCall != "" || l.Keys.Safety != "" {
			add(at+": 46elks sends no keys during a connected call: the end key and the safety key do nothing",
				"Avslutnings- och säkerhetsknapparna fungerar inte under samtalet (46elks skickar inga knapptryck då)")
		}
		if len(l.Wrapup.Questions) > 0 {
			add(at+": 46elks ends the agent's leg with the connected call: no wrap-up by phone; the office fills it in on Samtal",
				"Efterarbetet görs inte i telefonen: kansliet fyller i det under Samtal, efter vad samtalsledaren berättar")
		}
		if len(l.Referrals) > 0 {
			add(at+": 46elks neither transfers nor joins three parties: referrals are not available",
				"Hänvisningar går inte att göra (46elks kan varken koppla vidare eller koppla ihop tre)")
		}
		add(at+": 46elks hears keys only after a prompt (ivr): the agent key works after the greeting's last part",
			"Stjärnknappen för samtalsledare fungerar efter hälsningens sista del, inte medan den spelas")
	}
	return english, swedish
}

// LinesFor is the lines as the flows run them: with 46elks a line's calls are
// not cut at the limit (46elks cannot end a connected call), so the flows do
// not pretend to: the record keeps the whole talk and ends by whoever hung up.
func LinesFor(cfg *config.Config) []config.Line {
	if cfg.PBX.Elks == nil {
		return cfg.Lines
	}
	out := slices.Clone(cfg.Lines)
	for i := range out {
		out[i].Calls.HardStop = false
	}
	return out
}
