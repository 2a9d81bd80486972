package filter

import (
	"strings"
	"testing"
)

// fuzzSeeds are expressions of every kind, accepted and refused, that
// seed the fuzz targets and the BPF tests.
var fuzzSeeds = []string{
	"", "tcp", "host 10.0.0.1", "host 1.2.3.4 or 5.6.7.8", "port 80 or 443",
	"tcp and not port 22 and (host 10.0.0.1 or net 192.168.0.0/16)",
	"not port 22 and host 10.0.0.1", "tcp or udp and icmp", "host 1.1.1.1 and (port 80) or 2.2.2.2",
	"not host 1.1.1.1 or 2.2.2.2", "host 1.1.1.1 or (2.2.2.2 and not 3.3.3.3)",
	"net 10", "net 10.1/16", "net 10.0.0.0 mask 255.0.255.0", "ip6 net 2001:db8::/32",
	"udp src portrange 1-1024", "port http", "src and dst port 123", "proto \\tcp", "ip proto 6 or 17",
	"vlan 100 and vlan 200 and host 10.0.0.1", "vlan and vlan and vlan and vlan and vlan",
	"less 100 or greater 1500", "host ::ffff:1.2.3.4", "tcp[13] & 2 != 0", "ether host 1:2:3:4:5:6",
	"((tcp) or (udp))", "!(tcp||udp)&&icmp", "dst or src host 10.0.0.1", "host fe80::1%eth0",
	"port 010", "net 0x0a", "host é", "(((", ")))", "net 10.0.0.0 / 8 or 172.16 / 12",
}

// parseTests are accepted expressions and their canonical forms.
var parseTests = []struct{ in, want string }{
	// Empty: match everything.
	{"", ""},
	{"   \t\n", ""},

	// host.
	{"host 10.0.0.1", "host 10.0.0.1"},
	{"src host 10.0.0.1", "src host 10.0.0.1"},
	{"dst host 10.0.0.1", "dst host 10.0.0.1"},
	{"src or dst host 10.0.0.1", "host 10.0.0.1"},
	{"dst or src host 10.0.0.1", "host 10.0.0.1"},
	{"src and dst host 10.0.0.1", "src and dst host 10.0.0.1"},
	{"dst and src host 10.0.0.1", "src and dst host 10.0.0.1"},
	{"src || dst host 10.0.0.1", "host 10.0.0.1"},
	{"src && dst host 10.0.0.1", "src and dst host 10.0.0.1"},
	{"src 10.0.0.1", "src host 10.0.0.1"},
	{"dst 2001:db8::1", "dst host 2001:db8::1"},
	{"ip host 1.2.3.4", "ip host 1.2.3.4"},
	{"ip src host 1.2.3.4", "ip src host 1.2.3.4"},
	{"ip dst 1.2.3.4", "ip dst host 1.2.3.4"},
	{"ip6 host 2001:DB8::1", "ip6 host 2001:db8::1"},
	{"host ::ffff:1.2.3.4", "host ::ffff:1.2.3.4"},
	{"host ::", "host ::"},
	{"host 0.0.0.0", "host 0.0.0.0"},

	// net, including pcap-filter's abbreviated networks.
	{"net 10", "net 10.0.0.0/8"},
	{"net 10.1", "net 10.1.0.0/16"},
	{"net 10.1.2", "net 10.1.2.0/24"},
	{"net 10.1.2.3", "net 10.1.2.3/32"},
	{"net 10.0.0.0/8", "net 10.0.0.0/8"},
	{"net 10.0.0.0 / 8", "net 10.0.0.0/8"},
	{"net 10/8", "net 10.0.0.0/8"},
	{"net 172.16/12", "net 172.16.0.0/12"},
	{"net 10.1/24", "net 10.1.0.0/24"},
	{"net 0.0.0.0/0", "net 0.0.0.0/0"},
	{"net 10.0.0.0 mask 255.0.0.0", "net 10.0.0.0/8"},
	{"net 10.0.0.0 mask 255.255", "net 10.0.0.0/16"},
	{"net 10.0.0.0 mask 255.0.255.0", "net 10.0.0.0 mask 255.0.255.0"},
	{"net 0.0.0.0 mask 0.0.0.0", "net 0.0.0.0/0"},
	{"src net 192.168", "src net 192.168.0.0/16"},
	{"ip dst net 192.168.1.0/24", "ip dst net 192.168.1.0/24"},
	{"ip6 net 2001:db8::/32", "ip6 net 2001:db8::/32"},
	{"net 2001:db8::/32", "net 2001:db8::/32"},
	{"net 2001:db8::1", "net 2001:db8::1/128"},
	{"net ::ffff:0:0/96", "net ::ffff:0.0.0.0/96"},

	// port, portrange and names.
	{"port 80", "port 80"},
	{"port 0", "port 0"},
	{"port 65535", "port 65535"},
	{"port 0x50", "port 80"},
	{"tcp port 80", "tcp port 80"},
	{"udp dst port 53", "udp dst port 53"},
	{"sctp src and dst port 2905", "sctp src and dst port 2905"},
	{"tcp src or dst port 80", "tcp port 80"},
	{"port http", "tcp port 80"},
	{"port www", "tcp port 80"},
	{"port https", "port 443"},
	{"port domain", "port 53"},
	{"port ntp", "udp port 123"},
	{"src port ssh", "tcp src port 22"},
	{"tcp port http", "tcp port 80"},
	{"tcp port domain", "tcp port 53"},
	{"udp port domain", "udp port 53"},
	{"sctp port domain", "sctp port 53"},
	{"portrange 1-1024", "portrange 1-1024"},
	{"portrange 1024-80", "portrange 80-1024"},
	{"portrange 80", "portrange 80-80"},
	{"portrange 0x10-0x20", "portrange 16-32"},
	{"udp src portrange 1-1024", "udp src portrange 1-1024"},

	// protocols.
	{"ip", "ip"},
	{"ip6", "ip6"},
	{"tcp", "tcp"},
	{"udp", "udp"},
	{"icmp", "icmp"},
	{"icmp6", "icmp6"},
	{"sctp", "sctp"},
	{"igmp", "igmp"},
	{"pim", "pim"},
	{"vrrp", "vrrp"},
	{"ah", "ah"},
	{"esp", "esp"},
	{"ip proto 6", "ip proto 6"},
	{"ip6 proto 58", "ip6 proto 58"},
	{"proto 17", "proto 17"},
	{`proto \tcp`, "proto 6"},
	{`ip proto \udp`, "ip proto 17"},
	{"ip proto tcp", "ip proto 6"},
	{"proto gre", "proto 47"},
	{"ip proto ospf", "ip proto 89"},
	{`ip6 proto \ipv6-icmp`, "ip6 proto 58"},
	{"proto 0xff", "proto 255"},

	// vlan, less, greater.
	{"vlan", "vlan"},
	{"vlan 100", "vlan 100"},
	{"vlan 0", "vlan 0"},
	{"vlan 4095", "vlan 4095"},
	{"vlan 0x64", "vlan 100"},
	{"vlan 100 and vlan 200", "(vlan 100 and vlan 200)"},
	{"vlan and vlan and vlan and vlan 4", "(vlan and vlan and vlan and vlan 4)"},
	{"vlan and vlan and vlan and vlan and vlan", "(vlan and vlan and vlan and vlan and vlan)"},
	{"less 100", "less 100"},
	{"greater 1500", "greater 1500"},
	{"greater 0", "greater 0"},

	// Operators, precedence and associativity.
	{"tcp and udp", "(tcp and udp)"},
	{"tcp && udp", "(tcp and udp)"},
	{"tcp&&udp", "(tcp and udp)"},
	{"tcp || udp", "(tcp or udp)"},
	{"tcp||udp", "(tcp or udp)"},
	{"not tcp", "(not tcp)"},
	{"!tcp", "(not tcp)"},
	{"! tcp", "(not tcp)"},
	{"not not tcp", "(not (not tcp))"},
	{"(tcp)", "tcp"},
	{"((tcp))", "tcp"},
	{"tcp or udp and icmp", "((tcp or udp) and icmp)"},
	{"tcp and udp or icmp", "((tcp and udp) or icmp)"},
	{"tcp or udp or icmp", "(tcp or udp or icmp)"},
	{"tcp and udp and icmp", "(tcp and udp and icmp)"},
	{"tcp or (udp and icmp)", "(tcp or (udp and icmp))"},
	{"not tcp and udp", "((not tcp) and udp)"},
	{"not tcp or udp", "((not tcp) or udp)"},
	{"not (tcp or udp)", "(not (tcp or udp))"},
	{"not port 22 and host 10.0.0.1", "((not port 22) and host 10.0.0.1)"},
	{"host 10.0.0.1 and not port 22 or udp", "((host 10.0.0.1 and (not port 22)) or udp)"},
	{"tcp and not port 22 and (host 10.0.0.1 or net 192.168.0.0/16)",
		"(tcp and (not port 22) and (host 10.0.0.1 or net 192.168.0.0/16))"},

	// Qualifier inheritance for bare values (libpcap grammar).
	{"host 1.2.3.4 or 5.6.7.8", "(host 1.2.3.4 or host 5.6.7.8)"},
	{"host 1.2.3.4 or 5.6.7.8 or 2001:db8::1", "(host 1.2.3.4 or host 5.6.7.8 or host 2001:db8::1)"},
	{"port 80 or 443", "(port 80 or port 443)"},
	{"tcp port 80 or 443", "(tcp port 80 or tcp port 443)"},
	{"tcp dst port 80 or 443 and 8080", "((tcp dst port 80 or tcp dst port 443) and tcp dst port 8080)"},
	{"src net 10 or 172.16/12", "(src net 10.0.0.0/8 or src net 172.16.0.0/12)"},
	{"net 10.0.0.0 mask 255.0.0.0 or 192.168.0.0 mask 255.255.0.0", "(net 10.0.0.0/8 or net 192.168.0.0/16)"},
	{"proto 6 or 17", "(proto 6 or proto 17)"},
	{`ip proto \tcp or \udp`, "(ip proto 6 or ip proto 17)"},
	{"portrange 1-10 or 20-30", "(portrange 1-10 or portrange 20-30)"},
	{"port http or 443", "(tcp port 80 or port 443)"}, // inherits "port", not the name's "tcp"
	{"dst 1.1.1.1 or 2.2.2.2", "(dst host 1.1.1.1 or dst host 2.2.2.2)"},
	{"not host 1.1.1.1 or 2.2.2.2", "((not host 1.1.1.1) or host 2.2.2.2)"},
	{"host 1.1.1.1 or not 2.2.2.2", "(host 1.1.1.1 or (not host 2.2.2.2))"},
	{"host 1.1.1.1 and ! 2.2.2.2", "(host 1.1.1.1 and (not host 2.2.2.2))"},
	{"host 1.1.1.1 or (2.2.2.2 and not 3.3.3.3)", "(host 1.1.1.1 or (host 2.2.2.2 and (not host 3.3.3.3)))"},
	{"host 1.1.1.1 and (port 80) or 2.2.2.2", "((host 1.1.1.1 and port 80) or host 2.2.2.2)"},
	{"port 80 and (tcp) or 443", "((port 80 and tcp) or port 443)"},
	{"port 80 and not (tcp) or 443", "((port 80 and (not tcp)) or port 443)"},
	{"tcp port 80 or 443 and host 10.0.0.1 or 10.0.0.2", "(((tcp port 80 or tcp port 443) and host 10.0.0.1) or host 10.0.0.2)"},
	{"vlan 100 and host 10.0.0.1 or 10.0.0.2", "((vlan 100 and host 10.0.0.1) or host 10.0.0.2)"},

	// ParseArgs-style spacing and columns do not change the result.
	{"  tcp   port\t80  ", "tcp port 80"},
}

// TestParse checks the canonical form of accepted expressions.
func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
			continue
		}
		e2, err := Parse(e.String())
		if err != nil {
			t.Errorf("Parse(%q) (round trip of %q): %v", e.String(), tt.in, err)
			continue
		}
		if got := e2.String(); got != tt.want {
			t.Errorf("round trip of %q: %q, want %q", tt.in, got, tt.want)
		}
	}
}

const notSupported = "is not supported (supported: host, net, port, portrange, src/dst, ip/ip6/tcp/udp/icmp, vlan, less/greater, and/or/not)"

// parseErrorTests are refused expressions and a part of their errors.
var parseErrorTests = []struct{ in, want string }{
	// Outside the supported subset.
	{"tcp[13] & 2 != 0", `"tcp[13]" at column 1 ` + notSupported},
	{"tcp[tcpflags] & tcp-syn != 0", `"tcp[tcpflags]" at column 1 ` + notSupported},
	{"ip[0] & 0xf != 5", `"ip[0]" at column 1 ` + notSupported},
	{"tcp [13] = 2", `"[13]" at column 5 ` + notSupported},
	{"host 10.0.0.1 and tcp[13] = 2", `"tcp[13]" at column 19 ` + notSupported},
	{"len > 100", `"len" at column 1 ` + notSupported},
	{"tcp and len >= 100", `"len" at column 9 ` + notSupported},
	{"ether host 00:11:22:33:44:55", `"ether" at column 1 ` + notSupported},
	{"ether proto 0x0800", `"ether" at column 1 ` + notSupported},
	{"arp", `"arp" at column 1 ` + notSupported},
	{"rarp or tcp", `"rarp" at column 1 ` + notSupported},
	{"tcp or arp", `"arp" at column 8 ` + notSupported},
	{"gateway snup", `"gateway" at column 1 ` + notSupported},
	{"broadcast", `"broadcast" at column 1 ` + notSupported},
	{"ip multicast", `"multicast" at column 4 ` + notSupported},
	{"ip6 protochain 6", `"protochain" at column 5 ` + notSupported},
	{"mpls 100", `"mpls" at column 1 ` + notSupported},
	{"pppoes", `"pppoes" at column 1 ` + notSupported},
	{"geneve", `"geneve" at column 1 ` + notSupported},
	{"wlan host 00:11:22:33:44:55", `"wlan" at column 1 ` + notSupported},
	{"tcp-syn", `"tcp-syn" at column 1 ` + notSupported},
	{"inbound", `"inbound" at column 1 ` + notSupported},
	{"host 1.2.3.4 and ip[8] < 5", `"ip[8]" at column 18 ` + notSupported},
	{"tcp and (ip[8] < 5)", `"ip[8]" at column 10 ` + notSupported},
	{"host arp", `"arp" at column 6 ` + notSupported},
	{"tcp != 1", `"!=" at column 5 ` + notSupported},

	// Syntax errors.
	{"port", "expected a value after 'port' at column 5, got end of expression"},
	{"tcp port", "expected a value after 'port' at column 9, got end of expression"},
	{"tcp port and udp", "expected a value after 'port' at column 10, got \"and\""},
	{"src", "expected a value after 'src' at column 4, got end of expression"},
	{"host", "expected a value after 'host' at column 5"},
	{"net /8", "expected a value after 'net' at column 5, got \"/\""},
	{"host tcp", "expected a value after 'host' at column 6, got \"tcp\""},
	{"less", "expected a length after 'less' at column 5"},
	{"greater x", "length \"x\" at column 9 is not a number"},
	{"tcp and", "expected a primitive after 'and' at column 8, got end of expression"},
	{"tcp or or udp", "expected a primitive after 'or' at column 8, got \"or\""},
	{"and tcp", "expected a primitive at column 1, got \"and\""},
	{"not", "expected a primitive after 'not' at column 4"},
	{"()", "expected a primitive after '(' at column 2, got \")\""},
	{"(tcp", "missing ')' at column 5 for '(' at column 1"},
	{"tcp)", "unbalanced ')' at column 4"},
	{"tcp port 80 443", "unexpected \"443\" at column 13 (expected 'and', 'or' or the end of the expression)"},
	{"(tcp udp)", "unexpected \"udp\" at column 6 (expected 'and', 'or' or ')')"},
	{"tcp 80", "unexpected \"80\" at column 5"},
	{"ip 1.2.3.4", "unexpected \"1.2.3.4\" at column 4"},
	{"mask 255.0.0.0", "unexpected 'mask' at column 1"},
	{"net 10.0.0.0 mask", "expected a netmask after 'mask' at column 18"},
	{"net 10.0.0.0/", "expected a prefix length after '/' at column 14"},
	{"src proto 6", "'src' cannot qualify 'proto' at column 5"},
	{"TCP", `"TCP" at column 1: keywords are lower case ("tcp")`},
	{"tcp AND udp", `unexpected "AND" at column 5`},
	{"host\x001.2.3.4", "control character"},
	{strings.Repeat("(", 300) + "tcp" + strings.Repeat(")", 300), "nested too deeply"},
	{strings.Repeat("not ", 300) + "tcp", "nested too deeply"},

	// Bare values with nothing to inherit.
	{"10.0.0.1", `"10.0.0.1" at column 1 needs a qualifier such as host, net or port (there is none to inherit here)`},
	{"not 10.0.0.1", `"10.0.0.1" at column 5 needs a qualifier`},
	{"tcp or 80", `"80" at column 8 needs a qualifier such as host, net or port (there is none to inherit from before 'or')`},
	{"vlan or 100", `"100" at column 9 needs a qualifier`},
	{"less 10 or 20", `"20" at column 12 needs a qualifier`},
	{"(host 1.1.1.1) or 2.2.2.2", `"2.2.2.2" at column 19 needs a qualifier`},
	{"host 1.1.1.1 or (2.2.2.2 or host 3.3.3.3)", `"host" at column 29: a parenthesised list of bare values cannot contain a primitive`},

	// Hosts: numeric addresses only.
	{"host foo.example.com", `"foo.example.com" at column 6: host names are not resolved`},
	{"host localhost", `"localhost" at column 6: host names are not resolved`},
	{"src foo", `"foo" at column 5: host names are not resolved`},
	{"host 1.2.3.4 or bar", `"bar" at column 17: host names are not resolved`},
	{"net example", `"example" at column 5: network names are not resolved`},
	{"host 10.1", `"10.1" at column 6 is not a complete IPv4 address (use 'net 10.1' for a network)`},
	{"host 10", `"10" at column 6 is a number, not an IP address`},
	{"host 1.2.3.256", `"1.2.3.256" at column 6 is not a valid IPv4 address`},
	{"host 010.1.1.1", `"010.1.1.1" at column 6 is not a valid IPv4 address`},
	{"host 2001:db8:::1", `"2001:db8:::1" at column 6 is not a valid IPv6 address`},
	{"host fe80::1%eth0", `"fe80::1%eth0" at column 6: zones (%...) are not supported in filters`},
	{"net fe80::%eth0/64", `"fe80::%eth0" at column 5: zones`},
	{"host 1.2.3.4/32", `"1.2.3.4" at column 6: mask syntax is for networks only (use 'net')`},
	{"host 1.2.3.4 mask 255.255.255.255", `mask syntax is for networks only`},
	{"src 10.0.0.0/8", `mask syntax is for networks only`},
	{"ip host ::1", `'ip' qualifies an IPv6 host "::1" at column 9 (use 'ip6')`},
	{"ip host ::ffff:1.2.3.4", `'ip' qualifies an IPv6 host`},
	{"ip6 host 1.2.3.4", `'ip6' qualifies an IPv4 host "1.2.3.4" at column 10 (use 'ip')`},
	{"ip6 net 10.0.0.0/8", `'ip6' qualifies an IPv4 network`},
	{"ip net 2001:db8::/32", `'ip' qualifies an IPv6 network`},
	{"ip host 1.1.1.1 or ::1", `'ip' qualifies an IPv6 host "::1" at column 20`},
	{"tcp host 1.2.3.4", `'tcp' cannot qualify host at column 1 (host takes ip or ip6; write 'tcp and host 1.2.3.4')`},
	{"icmp host 1.2.3.4", `'icmp' cannot qualify host at column 1`},
	{"udp net 10", `'udp' cannot qualify net at column 1`},
	{"tcp src 1.2.3.4", `'tcp' cannot qualify host`},

	// Networks.
	{"net 10.1/8", `non-network bits set in "10.1/8" at column 5`},
	{"net 10.0.0.1/8", `non-network bits set in "10.0.0.1/8"`},
	{"net 10.0.0.1 mask 255.0.0.0", `non-network bits set in "10.0.0.1 mask 255.0.0.0"`},
	{"net 2001:db8::1/32", `non-network bits set in "2001:db8::1/32" at column 5 (did you mean 2001:db8::/32?)`},
	{"net 10.0.0.0/33", `prefix length "33" at column 14 is out of range (0-32)`},
	{"net 2001:db8::/129", `prefix length "129" at column 16 is out of range (0-128)`},
	{"net 2001:db8:: mask ffff::", `'mask' at column 16 is for IPv4 networks only`},
	{"net 10.0.0.0 mask 255.0.0.256", `netmask "255.0.0.256" at column 19 is not a dotted IPv4 mask`},
	{"net 0", `network "0" at column 5 is ambiguous`},
	{"net 256", `network "256" at column 5: a bare number must be 1-255`},
	{"net 1.2.3.4.5", `"1.2.3.4.5" at column 5 is not a valid IPv4 address`},

	// Ports.
	{"port 70000", `port "70000" at column 6 is out of range (0-65535)`},
	{"port 010", `port "010" at column 6 has a leading zero (tcpdump would read it as octal)`},
	{"port 0x", `port "0x" at column 6 is not a number`},
	{"port 1-1024", `"1-1024" at column 6 is a range: use 'portrange 1-1024'`},
	{"port nosuchservice", `unknown port name "nosuchservice" at column 6`},
	{"port 10.0.0.0/8", `'/' and 'mask' only follow network addresses`},
	{"port \\http", `unexpected "\\http" at column 6 (a backslash only escapes protocol names after 'proto')`},
	{"udp port http", `port "http" at column 10 is tcp only (it is 80/tcp; write 'udp port 80' for that number)`},
	{"sctp port http", `port "http" at column 11 is tcp only`},
	{"tcp port ntp", `port "ntp" at column 10 is udp only`},
	{"udp port 53 or http", `port "http" at column 16 is tcp only`},
	{"ip port 80", `'ip' cannot qualify port at column 1 (port takes tcp, udp or sctp; write 'ip and port 80')`},
	{"ip6 portrange 1-2", `'ip6' cannot qualify portrange at column 1`},
	{"icmp port 80", `'icmp' cannot qualify port`},
	{"portrange 1-70000", `portrange "1-70000" at column 11: port numbers are 0-65535`},
	{"portrange http-https", `portrange "http-https" at column 11: write two port numbers, LOW-HIGH (names are not supported in ranges)`},
	{"portrange 1-", `portrange "1-" at column 11: write two port numbers`},
	{"portrange 1-2-3", `portrange "1-2-3" at column 11`},
	{"portrange 01-2", `portrange "01-2" at column 11: has a leading zero`},

	// Protocols.
	{"ip proto 256", `protocol number "256" at column 10 is out of range (0-255)`},
	{"proto nosuch", `unknown IP protocol "nosuch" at column 7`},
	{"tcp proto 6", `'tcp' cannot qualify proto at column 1`},
	{"icmp6 proto 58", `'icmp6' cannot qualify proto`},

	// vlan.
	{"vlan 4096", `VLAN ID "4096" at column 6 is out of range (0-4095)`},
	{"vlan 1.2", `VLAN ID "1.2" at column 6 is not a number`},
	{"vlan and vlan and vlan and vlan and vlan 5", `'vlan 5' at column 37 tests tag 5, but only 4 VLAN tags are decoded`},
	{"vlan 100 200", `unexpected "200" at column 10`},
}

// TestParseErrors checks that everything outside the grammar is refused with
// a one-line error naming the token and its column.
func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrorTests {
		e, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %q, want error containing %q", tt.in, e, tt.want)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "filter: ") {
			t.Errorf("Parse(%q) error %q does not start with \"filter: \"", tt.in, msg)
		}
		if strings.ContainsAny(msg, "\n\r") {
			t.Errorf("Parse(%q) error is not one line: %q", tt.in, msg)
		}
		if !strings.Contains(msg, tt.want) {
			t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, msg, tt.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	e, err := ParseArgs([]string{"tcp", "port", "80", "or", "443"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.String(), "(tcp port 80 or tcp port 443)"; got != want {
		t.Errorf("ParseArgs = %q, want %q", got, want)
	}
	// tcpdump accepts the whole expression as one argument too.
	e, err = ParseArgs([]string{"tcp port 80", "and", "not host 10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.String(), "(tcp port 80 and (not host 10.0.0.1))"; got != want {
		t.Errorf("ParseArgs = %q, want %q", got, want)
	}
	// Columns refer to the joined string.
	_, err = ParseArgs([]string{"tcp", "port", "http", "or", "tcp[13]"})
	if err == nil || !strings.Contains(err.Error(), `"tcp[13]" at column 18`) {
		t.Errorf("ParseArgs error = %v, want tcp[13] at column 18", err)
	}
	for _, args := range [][]string{nil, {}, {""}, {" ", ""}} {
		e, err := ParseArgs(args)
		if err != nil || e == nil || !e.MatchesAll() || e.String() != "" || !e.Match(&Fields{}) {
			t.Errorf("ParseArgs(%q) = %v, %v; want a match-all Expr", args, e, err)
		}
	}
}

func TestErrorColumnsAreCharacters(t *testing.T) {
	// A non-ASCII character before the error counts as one column.
	_, err := Parse("host é or tcp[1]")
	if err == nil || !strings.Contains(err.Error(), `"é" at column 6`) {
		t.Errorf("got %v", err)
	}
}
