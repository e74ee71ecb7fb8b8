package policy

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Class is a destination class.
type Class string

// The destination classes, from the dialled number and the caller's region.
const (
	ClassInternal      Class = "internal"      // an extension of the PBX (policy.internal_extensions)
	ClassEmergency     Class = "emergency"     // an emergency number of the caller's region: always allowed
	ClassFeatureCode   Class = "feature_code"  // a PBX feature code (* or #)
	ClassNational      Class = "national"      // a fixed-line (or other ordinary) number in the caller's region
	ClassMobile        Class = "mobile"        // a mobile number in the caller's region
	ClassTollFree      Class = "toll_free"     // a toll-free number in the caller's region
	ClassInternational Class = "international" // an ordinary number in another region
	ClassPremium       Class = "premium"       // premium rate, shared cost or personal numbers, anywhere
	ClassHighRisk      Class = "high_risk"     // configured prefixes, region 001, invalid or unparseable numbers
)

// Destination is a classified dialled number.
type Destination struct {
	Class Class
	// E164 is the normalised number ("" for internal, emergency and feature codes, and unparseable input).
	E164 string
	// Region is the number's region ("001" for non-geographic numbers, "" when unknown).
	Region string
	// International is true when the number is outside the caller's region (including region 001 and
	// numbers of no known region); such calls count toward the international limits.
	International bool
	// Rate is the estimated price per minute from the rate table.
	Rate float64
	// Detail says why the class was chosen (logs only).
	Detail string
}

// visualSeparators are removed from dialled strings before matching (RFC 3966 visual separators).
var visualSeparators = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "", "\t", "")

// isSIPName reports whether d is a SIP user name such as "bob" or "alice.smith" rather than a dialled
// number: it starts with a letter. Such a user part cannot be dialled into the telephone network by the
// PBX as it is; vanity numbers ("1800FLOWERS", "+44FLOWERS") start with a digit or + and are classified
// as numbers.
func isSIPName(d string) bool {
	c := d[0]
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// classify classifies dialled (the Request-URI user part) for a caller in region.
func (c *compiled) classify(dialled, region string) Destination {
	d := visualSeparators.Replace(strings.TrimSpace(dialled))
	if d == "" {
		return Destination{Class: ClassHighRisk, International: true, Detail: "empty number"}
	}
	if phonenumbers.IsEmergencyNumber(d, region) {
		return Destination{Class: ClassEmergency, Detail: "emergency number in " + region}
	}
	if d[0] == '*' || d[0] == '#' {
		return Destination{Class: ClassFeatureCode, Detail: "feature code"}
	}
	if c.internal.MatchString(d) {
		return Destination{Class: ClassInternal, Detail: "internal extension"}
	}
	if isSIPName(d) {
		return Destination{Class: ClassInternal, Detail: "SIP user name (not a number)"}
	}
	num, err := phonenumbers.Parse(d, region)
	if err != nil {
		return c.rated(Destination{Class: ClassHighRisk, International: true, Detail: "not a phone number"})
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	dst := Destination{E164: e164, Region: phonenumbers.GetRegionCodeForNumber(num)}
	dst.International = dst.Region != region
	for _, p := range c.highRisk {
		if strings.HasPrefix(e164, p) {
			dst.Class, dst.Detail = ClassHighRisk, "high-risk prefix "+p
			return c.rated(dst)
		}
	}
	if dst.Region == "001" || phonenumbers.GetSupportedGlobalNetworkCallingCodes()[int(num.GetCountryCode())] {
		dst.Class, dst.Detail, dst.Region, dst.International = ClassHighRisk, "non-geographic number (region 001)", "001", true
		return c.rated(dst)
	}
	if !phonenumbers.IsValidNumber(num) {
		dst.Class, dst.Detail, dst.International = ClassHighRisk, "not a valid number in any region", true
		return c.rated(dst)
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.PERSONAL_NUMBER:
		dst.Class, dst.Detail = ClassPremium, "premium rate, shared cost or personal number"
	case phonenumbers.UNKNOWN:
		dst.Class, dst.Detail, dst.International = ClassHighRisk, "number of unknown type", true
	default:
		switch {
		case dst.International:
			dst.Class, dst.Detail = ClassInternational, "number in "+dst.Region
		case phonenumbers.GetNumberType(num) == phonenumbers.MOBILE:
			dst.Class, dst.Detail = ClassMobile, "mobile number"
		case phonenumbers.GetNumberType(num) == phonenumbers.TOLL_FREE:
			dst.Class, dst.Detail = ClassTollFree, "toll-free number"
		default:
			dst.Class, dst.Detail = ClassNational, "national number"
		}
	}
	return c.rated(dst)
}

// rated fills the price per minute: the longest matching rate prefix, else the default price.
func (c *compiled) rated(d Destination) Destination {
	d.Rate = c.defaultRate
	best := -1
	for _, r := range c.rates {
		if len(r.prefix) > best && d.E164 != "" && strings.HasPrefix(d.E164, r.prefix) {
			d.Rate, best = r.perMinute, len(r.prefix)
		}
	}
	return d
}
