package testpeers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// setDefaults validates the options (errors name the field) and fills in defaults.
func (o *BaresipOptions) setDefaults() error {
	if err := checkUserName(o.User); err != nil {
		return fmt.Errorf("BaresipOptions.User: %w", err)
	}
	if o.AuthUser == "" {
		o.AuthUser = o.User
	} else if err := checkUserName(o.AuthUser); err != nil {
		return fmt.Errorf("BaresipOptions.AuthUser: %w", err)
	}
	if err := checkPassword(o.Password); err != nil {
		return fmt.Errorf("BaresipOptions.Password: %w", err)
	}
	if strings.ContainsAny(o.Password, ";>") || strings.ContainsAny(o.DisplayName, "\"<>\r\n") {
		return fmt.Errorf("%w: BaresipOptions.Password/DisplayName contain a character the account line cannot carry", ErrBadOption)
	}
	if o.Domain == "" {
		o.Domain = "127.0.0.1"
	}
	if strings.ContainsAny(o.Domain, "\"\\\r\n ;@<>") {
		return fmt.Errorf("%w: BaresipOptions.Domain %q is not host[:port]", ErrBadOption, o.Domain)
	}
	o.Transport = strings.ToLower(o.Transport)
	switch o.Transport {
	case "":
		o.Transport = "udp"
	case "udp", "tcp", "tls":
	default:
		return fmt.Errorf("%w: BaresipOptions.Transport %q (want udp, tcp or tls)", ErrBadOption, o.Transport)
	}
	if o.Outbound != "" && (!strings.HasPrefix(o.Outbound, "sip:") || strings.ContainsAny(o.Outbound, "\"\r\n <>")) {
		return fmt.Errorf("%w: BaresipOptions.Outbound %q is not a sip: URI", ErrBadOption, o.Outbound)
	}
	if o.RegInterval == 0 {
		o.RegInterval = 600
	} else if o.RegInterval < 0 {
		return fmt.Errorf("%w: BaresipOptions.RegInterval %d", ErrBadOption, o.RegInterval)
	}
	switch o.MediaEnc {
	case "", "srtp", "srtp-mand", "srtp-mandf", "dtls_srtp":
	default:
		return fmt.Errorf("%w: BaresipOptions.MediaEnc %q", ErrBadOption, o.MediaEnc)
	}
	switch o.MediaNAT {
	case "", "stun", "turn", "ice":
	default:
		return fmt.Errorf("%w: BaresipOptions.MediaNAT %q", ErrBadOption, o.MediaNAT)
	}
	switch o.AnswerMode {
	case "":
		o.AnswerMode = "manual"
	case "manual", "auto", "early":
	default:
		return fmt.Errorf("%w: BaresipOptions.AnswerMode %q (want manual, auto or early)", ErrBadOption, o.AnswerMode)
	}
	if o.ToneHz == 0 {
		o.ToneHz = 440
	} else if o.ToneHz < 10 || o.ToneHz > 20000 {
		return fmt.Errorf("%w: BaresipOptions.ToneHz %d (want 10..20000)", ErrBadOption, o.ToneHz)
	}
	if o.AudioFile != "" {
		if _, err := os.Stat(o.AudioFile); err != nil {
			return fmt.Errorf("%w: BaresipOptions.AudioFile: %v", ErrBadOption, err)
		}
	}
	if len(o.Codecs) == 0 {
		o.Codecs = []string{"PCMU", "PCMA", "G722"}
	}
	for _, c := range o.Codecs {
		if c == "" || strings.ContainsAny(c, ",; \r\n") {
			return fmt.Errorf("%w: BaresipOptions.Codecs entry %q", ErrBadOption, c)
		}
	}
	for _, l := range o.ExtraConfig {
		if strings.ContainsAny(l, "\r\n") {
			return fmt.Errorf("%w: BaresipOptions.ExtraConfig line %q has a line break", ErrBadOption, l)
		}
	}
	if strings.ContainsAny(o.ExtraAccountParams, "\r\n") {
		return fmt.Errorf("%w: BaresipOptions.ExtraAccountParams has a line break", ErrBadOption)
	}
	if o.SIPPort < 0 || o.SIPPort > 65534 {
		return fmt.Errorf("%w: BaresipOptions.SIPPort %d", ErrBadOption, o.SIPPort)
	}
	return nil
}

// config renders baresip's config file.
func (b *Baresip) config(modDir string) string {
	o := b.opts
	source := fmt.Sprintf("ausine,%d", o.ToneHz)
	if o.AudioFile != "" {
		source = "aufile," + b.sourceFile()
	}
	lines := []string{
		"# baresip config written by internal/testpeers",
		"poll_method\tepoll",
		"sip_listen\t" + fmt.Sprintf("127.0.0.1:%d", b.sipPort),
		"net_interface\t127.0.0.1",
		"dns_server\t127.0.0.1:53",
		"call_local_timeout\t120",
		"call_max_calls\t4",
		"audio_player\taubridge,play-" + o.User,
		"audio_source\t" + source,
		"audio_alert\taubridge,alert-" + o.User,
		"audio_level\tno",
		"ausrc_format\ts16",
		"ausrc_srate\t48000",
		"ausrc_channels\t2",
		"auplay_format\ts16",
		"auenc_format\ts16",
		"audec_format\ts16",
		"audio_buffer\t20-160",
		"rtp_tos\t0",
		"rtcp_mux\tno",
		"jitter_buffer_delay\t1-10",
		"rtp_stats\tno",
		"snd_path\t" + b.recDir,
		"ringback_disabled\tyes",
		"menu_bell\tno",
		"ctrl_tcp_listen\t" + fmt.Sprintf("127.0.0.1:%d", b.ctlPort),
		"module_path\t" + modDir,
		"module\tg711.so",
		"module\tg722.so",
		"module\tausine.so",
		"module\taufile.so",
		"module\taubridge.so",
		"module\tsndfile.so",
		"module\tsrtp.so",
	}
	if o.MediaEnc == "dtls_srtp" {
		lines = append(lines, "module\tdtls_srtp.so")
	}
	switch o.MediaNAT {
	case "stun":
		lines = append(lines, "module\tstun.so")
	case "turn":
		lines = append(lines, "module\tturn.so")
	case "ice":
		lines = append(lines, "module\tice.so")
	}
	if o.CAFile != "" {
		lines = append(lines, "sip_cafile\t"+o.CAFile)
	}
	lines = append(lines,
		"module_tmp\tuuid.so",
		"module_tmp\taccount.so",
		"module_app\tmenu.so",
		"module_app\tctrl_tcp.so",
	)
	lines = append(lines, o.ExtraConfig...)
	return strings.Join(lines, "\n") + "\n"
}

// accountLine renders the account ("uanew" argument).
func (b *Baresip) accountLine() string {
	o := b.opts
	b.aor = fmt.Sprintf("sip:%s@%s", o.User, o.Domain)
	var sb strings.Builder
	if o.DisplayName != "" {
		fmt.Fprintf(&sb, "%q ", o.DisplayName)
	}
	fmt.Fprintf(&sb, "<%s;transport=%s>", b.aor, o.Transport)
	if o.Password != "" {
		fmt.Fprintf(&sb, ";auth_user=%s;auth_pass=%s", o.AuthUser, o.Password)
	}
	fmt.Fprintf(&sb, ";answermode=%s", o.AnswerMode)
	fmt.Fprintf(&sb, ";audio_codecs=%s", strings.Join(codecSpecs(o.Codecs), ","))
	if o.NoRegister {
		sb.WriteString(";regint=0")
	} else {
		fmt.Fprintf(&sb, ";regint=%d", o.RegInterval)
	}
	if o.Outbound != "" {
		fmt.Fprintf(&sb, ";outbound=\"%s\"", o.Outbound)
	}
	if o.SIPOutbound {
		sb.WriteString(";sipnat=outbound")
	}
	if o.MediaEnc != "" {
		fmt.Fprintf(&sb, ";mediaenc=%s", o.MediaEnc)
	}
	if o.MediaNAT != "" {
		fmt.Fprintf(&sb, ";medianat=%s", o.MediaNAT)
		if o.STUNServer != "" {
			fmt.Fprintf(&sb, ";stunserver=%s", o.STUNServer)
		}
		if o.STUNUser != "" {
			fmt.Fprintf(&sb, ";stunuser=%s", o.STUNUser)
		}
		if o.STUNPass != "" {
			fmt.Fprintf(&sb, ";stunpass=%s", o.STUNPass)
		}
	}
	sb.WriteString(o.ExtraAccountParams)
	return sb.String()
}

func (b *Baresip) sourceFile() string { return filepath.Join(b.dir, "source.wav") }

// convertAudioFile converts AudioFile to 48 kHz stereo S16LE, the format the audio source runs at
// (aufile refuses any other rate or channel count).
func (b *Baresip) convertAudioFile() error {
	sox, err := lookPath("sox")
	if err != nil {
		return fmt.Errorf("BaresipOptions.AudioFile needs sox: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, sox, b.opts.AudioFile, "-r", "48000", "-c", "2", "-b", "16",
		"-e", "signed-integer", b.sourceFile()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: BaresipOptions.AudioFile %s: sox: %v: %s", ErrBadOption, b.opts.AudioFile, err,
			strings.TrimSpace(string(out)))
	}
	return nil
}

// codecSpecs expands codec names that baresip only finds with their clock rate (G.722 runs at 16 kHz
// but says 8000 in SDP).
func codecSpecs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if strings.EqualFold(n, "G722") {
			n = "G722/16000/1"
		}
		out[i] = n
	}
	return out
}
