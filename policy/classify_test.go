package policy

import "testing"

func TestClassify(t *testing.T) {
	f := newFixture(t, `
high_risk_prefixes: ["+979", "+881", "+882", "+883", "+3706"]
spend:
  default_per_minute: 0.5
  rates: [{prefix: "+44", per_minute: 0.05}, {prefix: "+4420", per_minute: 0.01}, {prefix: "+1", per_minute: 0.02}]
users:
  - {users: [gb], role: default, region: GB}
  - {users: [au], role: default, region: AU}
  - {users: [de], role: default, region: DE}
`)
	cases := []struct {
		user, dialled string
		class         Class
		intl          bool
		e164          string
		rate          float64
	}{
		{"us", "911", ClassEmergency, false, "", 0},
		{"us", "bob", ClassInternal, false, "", 0},
		{"us", "alice.smith", ClassInternal, false, "", 0},
		{"us", "112", ClassEmergency, false, "", 0},
		{"gb", "999", ClassEmergency, false, "", 0},
		{"gb", "112", ClassEmergency, false, "", 0},
		{"au", "000", ClassEmergency, false, "", 0},
		{"de", "110", ClassEmergency, false, "", 0},
		{"us", "999", ClassInternal, false, "", 0}, // not an emergency number in the US: an extension
		{"gb", "911", ClassInternal, false, "", 0},
		{"us", "1001", ClassInternal, false, "", 0},
		{"us", "*72", ClassFeatureCode, false, "", 0},
		{"us", "#31#", ClassFeatureCode, false, "", 0},
		{"us", "2015550123", ClassNational, false, "+12015550123", 0.02},
		{"us", "+1 (201) 555-0123", ClassNational, false, "+12015550123", 0.02},
		{"us", "8002345678", ClassTollFree, false, "+18002345678", 0.02},
		{"us", "9002345678", ClassPremium, false, "+19002345678", 0.02},
		{"gb", "07400123456", ClassMobile, false, "+447400123456", 0.05},
		{"gb", "02071838750", ClassNational, false, "+442071838750", 0.01},
		{"gb", "08001234567", ClassTollFree, false, "+448001234567", 0.05},
		{"gb", "09012345678", ClassPremium, false, "+449012345678", 0.05},
		{"gb", "07012345678", ClassPremium, false, "+447012345678", 0.05}, // personal number
		{"us", "+4918012345", ClassPremium, true, "+4918012345", 0.5},     // shared cost abroad
		{"us", "+442071838750", ClassInternational, true, "+442071838750", 0.01},
		{"us", "011442071838750", ClassInternational, true, "+442071838750", 0.01},
		{"de", "00442071838750", ClassInternational, true, "+442071838750", 0.01},
		{"us", "+18765550123", ClassInternational, true, "+18765550123", 0.02}, // Jamaica shares +1
		{"us", "+979123456789", ClassHighRisk, true, "+979123456789", 0.5},
		{"us", "+881612345678", ClassHighRisk, true, "+881612345678", 0.5},
		{"us", "+8823421234", ClassHighRisk, true, "+8823421234", 0.5},
		{"us", "+883510012345", ClassHighRisk, true, "+883510012345", 0.5},
		{"us", "+870301234567", ClassHighRisk, true, "+870301234567", 0.5},  // region 001, not in the list
		{"us", "+80012345678", ClassHighRisk, true, "+80012345678", 0.5},    // region 001 freephone
		{"us", "+37061234567", ClassHighRisk, true, "+37061234567", 0.5},    // configured prefix
		{"gb", "+447700900123", ClassHighRisk, true, "+447700900123", 0.05}, // not a valid number
		{"us", "abc", ClassInternal, false, "", 0},                          // a SIP user name, not a number
		{"us", "12ab", ClassHighRisk, true, "", 0.5},                        // starts like a number but is not one
		{"us", "", ClassHighRisk, true, "", 0},
	}
	for _, tc := range cases {
		d := f.p.Classify(tc.user, tc.dialled)
		if d.Class != tc.class || d.International != tc.intl || d.E164 != tc.e164 || d.Rate != tc.rate {
			t.Errorf("%s dials %q: got class %s intl %v e164 %q rate %v (%s); want %s %v %q %v", tc.user, tc.dialled,
				d.Class, d.International, d.E164, d.Rate, d.Detail, tc.class, tc.intl, tc.e164, tc.rate)
		}
	}
}

func TestClassifyInternalPattern(t *testing.T) {
	f := newFixture(t, `internal_extensions: "2[0-9]{3}"`)
	if c := f.p.Classify("u", "2000").Class; c != ClassInternal {
		t.Errorf("2000 = %s, want internal", c)
	}
	if c := f.p.Classify("u", "1001").Class; c == ClassInternal {
		t.Errorf("1001 is internal although the pattern excludes it")
	}
	if c := f.p.Classify("u", "911").Class; c != ClassEmergency {
		t.Errorf("911 = %s, want emergency whatever the pattern", c)
	}
}

// Dialled numbers come from Request-URIs: classification never panics and always names a class.
func FuzzClassify(f *testing.F) {
	fx := newFixture(f, `
high_risk_prefixes: ["+979", "+3706"]
users:
  - {users: [gb], role: default, region: GB}
`)
	for _, s := range []string{"911", "+442079460958", "00442079460958", "*72", "bob", "+", "0", "+979123", "++1 (555)"} {
		f.Add("gb", s)
		f.Add("us", s)
	}
	known := map[Class]bool{ClassInternal: true, ClassEmergency: true, ClassFeatureCode: true, ClassNational: true,
		ClassMobile: true, ClassTollFree: true, ClassInternational: true, ClassPremium: true, ClassHighRisk: true}
	f.Fuzz(func(t *testing.T, user, dialled string) {
		if d := fx.p.Classify(user, dialled); !known[d.Class] {
			t.Fatalf("Classify(%q, %q) = class %q", user, dialled, d.Class)
		}
	})
}
