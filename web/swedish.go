package web

import "strings"

// The API answers in English; the office pages say the same in Swedish. A
// message is picked by the error's code, or its field and a telling part of
// the English text ("*": any field, as a wrap-up question's id); the first
// match wins, the field's own line (empty part) last.
var pageMessages = []struct{ code, field, part, text string }{
	{"last_admin", "", "", "Det måste finnas minst en administratör kvar."},
	{"self", "", "", "Du kan inte ta bort dig själv."},
	{"forbidden", "", "", "Bara en administratör hanterar användare."},
	{"exists", "", "", "Det namnet finns redan."},
	{"not_found", "", "", "Det finns inte (längre)."},
	{"line_closed", "", "", "Linjen är stängd."},
	{"schedule_changed", "", "", "Någon annan ändrade veckoschemat under tiden. Här är det nya; gör din ändring igen."},
	{"not_logged_in", "", "", "Agenten är inte inloggad."},
	{"not_allowed", "", "", "Agenten är pausad eller hör inte till linjen."},
	{"", "id", "already", "Det id:t har redan en agent."},
	{"", "id", "", "Id: små bokstäver, siffror, - och _ (högst 32 tecken)."},
	{"", "name", "", "Skriv ett namn (för användare: bokstäver, siffror, . _ @ -)."},
	{"", "phone", "already", "Numret är redan en annan agents."},
	{"", "phone", "", "Telefonnumret ska se ut som 070-123 45 67 eller +46 70 123 45 67."},
	{"", "sip_uri", "", "SIP-adressen ska se ut som sip:klara@pbx.example."},
	{"", "lines", "", "Välj minst en av linjerna."},
	{"", "pin", "digits", "Koden ska vara 6 till 8 siffror."},
	{"", "pin", "phone", "Koden får inte vara en del av telefonnumret."},
	{"", "pin", "", "Koden är för lätt att gissa (upprepade siffror eller siffror i följd)."},
	{"", "password", "", "Lösenordet ska ha minst 10 tecken."},
	{"", "role", "", "Välj rollen admin eller office."},
	{"", "reason", "200", "Anledningen får vara högst 200 tecken."},
	{"", "reason", "", "Skriv varför linjen stängs."},
	{"", "until", "future", "Sluttiden har redan varit."},
	{"", "until", "year", "Sluttiden får vara högst ett år fram."},
	{"", "until", "", "Sluttiden ska vara en dag och en tid."},
	{"", "agent", "does not serve", "Agenten hör inte till linjen eller är pausad."},
	{"", "agent", "not an agent", "Agenten finns inte (längre)."},
	{"", "days", "", "Kryssa i minst en veckodag."},
	{"", "agent", "", "Välj en agent."},
	{"", "date", "not expected", "Agenten har inget pass den dagen."},
	{"", "date", "already expected", "Agenten har redan pass den dagen."},
	{"", "date", "sick", "Agenten är sjukanmäld den dagen; ta bort det först."},
	{"", "date", "", "Datumet ska skrivas som 2026-11-23."},
	{"", "from", "", "Datumet ska skrivas som 2026-11-23."},
	{"", "to", "before", "Slutdatumet är före startdatumet."},
	{"", "to", "days", "Visa högst ett år åt gången."},
	{"", "to", "", "Datumet ska skrivas som 2026-11-23."},
	{"", "by", "", "Välj per dag eller per timme."},
	{"", "note", "phone", "Skriv inga telefonnummer i anteckningen: den sparas."},
	{"", "note", "", "Anteckningen får vara högst 500 tecken."},
	{"", "state", "", "Välj ny, kontaktad eller avslutad."},
	{"", "call", "wrap-up", "Efterarbetet är redan ifyllt, eller samtalet besvarades inte."},
	{"", "start", "", "Samtalet finns inte (längre)."},
	{"", "*", "no answer to this question", "Välj ett av frågans svar."},
	{"", "*", "no such question", "Frågan finns inte (längre) i efterarbetet."},
}

// pageMessage is what a page says of an error the API would answer with ae.
func pageMessage(ae *apiError) string {
	field := ae.Field
	if _, f, ok := strings.Cut(field, "]."); ok && strings.HasPrefix(field, "shifts[") {
		field = f // the weekly schedule's shifts[2].days is the shift form's days
	}
	for _, m := range pageMessages {
		if (m.code != "" && m.code == ae.Code) ||
			(m.code == "" && (m.field == field || m.field == "*") && strings.Contains(ae.Message, m.part)) {
			return m.text
		}
	}
	return ae.Message
}
