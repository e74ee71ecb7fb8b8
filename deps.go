//go:build tools

package tools

import (
	_ "github.com/emiago/sipgo"
	_ "github.com/gotranspile/g722"
	_ "github.com/icholy/digest"
	_ "github.com/nyaruka/phonenumbers"
	_ "github.com/oschwald/geoip2-golang/v2"
	_ "github.com/pion/rtcp"
	_ "github.com/pion/rtp"
	_ "github.com/pion/sdp/v3"
	_ "github.com/pion/srtp/v3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "go.uber.org/goleak"
	_ "go.uber.org/zap"
	_ "go.yaml.in/yaml/v3"
)
