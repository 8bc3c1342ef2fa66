#!/usr/bin/perl
# Reads monitoring-plugin output lines on stdin and prints, per line, one JSON
# object: the status word, the summary, and the performance data as Debian's
# libmonitoring-plugin-perl parses it (Monitoring::Plugin::Performance), so a
# test can compare what a monitoring system would read with what it expected.
use strict;
use warnings;
use JSON::PP;
use Monitoring::Plugin::Performance use_die => 1;

my $json = JSON::PP->new->canonical;
while (my $line = <STDIN>) {
    chomp $line;
    my %out = (line => $line);
    if ($line =~ /^DANE (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]*?)(?: \| (.*))?$/) {
        $out{status} = $1;
        $out{summary} = $2;
        my $perf = defined $3 ? $3 : '';
        $out{perfstring} = $perf;
        my @items = split ' ', $perf;
        $out{items} = scalar @items;
        $out{perf} = [
            map {
                {
                    label    => $_->label,
                    value    => $_->value + 0,
                    uom      => $_->uom // '',
                    warning  => defined $_->threshold->warning->start ? $_->threshold->warning . '' : '',
                    critical => defined $_->threshold->critical->start ? $_->threshold->critical . '' : '',
                    min      => $_->min // '',
                }
            } Monitoring::Plugin::Performance->parse_perfstring($perf)
        ];
    }
    print $json->encode(\%out), "\n";
}
