"""Each source type against its recorded server output, served on loopback."""

from __future__ import annotations

import json

import pytest

from tracker.agent.sources import ConfigError, Incomplete, SourceError, Stream, build_sources
from tracker.agent.sources.hls_probe import HlsProbe

from .servers import RECORDINGS, Answer, StatusServer, json_answer, recording, srs_api


def one_source(entry: dict, **kwargs):
    (source,) = build_sources([entry], timeout=2, **kwargs)
    return source


def icecast(server: StatusServer, **options):
    return one_source({"type": "icecast", "url": server.url + "/status-json.xsl", **options})


def test_icecast_without_source_key_reports_no_streams(status_server):
    status_server.routes["/status-json.xsl"] = recording("icecast-no-source.json")

    assert icecast(status_server).collect() == []


def test_icecast_single_source_object_is_one_stream(status_server):
    status_server.routes["/status-json.xsl"] = recording("icecast-one-source.json")

    streams = icecast(status_server, public_url="https://stream.example.org/{mount}").collect()

    assert streams == [Stream("audio", "https://stream.example.org/main.mp3", 7, 128_000, "main")]


def test_icecast_source_list_maps_types_and_bitrates(status_server):
    status_server.routes["/status-json.xsl"] = recording("icecast-several-sources.json")

    streams = icecast(status_server).collect()

    # The octet-stream mount has no tracker format and is left out; listenurl is the default URL.
    assert streams == [
        Stream("audio", "http://localhost:8000/main.opus", 3, 96_000, "main"),
        Stream("webm", "http://localhost:8000/hd.webm", 11, 0, "hd"),
        Stream("audio", "http://localhost:8000/backup.mp3", 0, 64_000, "backup"),
    ]


def test_icecast_mount_filter_and_format_override(status_server):
    status_server.routes["/status-json.xsl"] = recording("icecast-several-sources.json")

    streams = icecast(status_server, mounts=["/data.bin"], format="audio", bitrate=32000).collect()

    assert streams == [Stream("audio", "http://localhost:8000/data.bin", 1, 32_000, "data")]


def test_icecast_invalid_json_after_startup_is_an_error_then_recovers(status_server):
    status_server.routes["/status-json.xsl"] = recording("icecast-invalid-startup.json")
    source = icecast(status_server)

    with pytest.raises(SourceError, match=r"status-json\.xsl is not valid JSON"):
        source.collect()

    status_server.routes["/status-json.xsl"] = recording("icecast-one-source.json")
    assert [s.clients for s in source.collect()] == [7]


def test_nginx_rtmp_counts_players_without_the_publisher(status_server):
    status_server.routes["/stat"] = recording("nginx-rtmp-stat.xml", "text/xml")

    streams = one_source({"type": "nginx_rtmp", "url": status_server.url + "/stat"}).collect()

    # main_hd: nclients 4 = publisher + 3 players; bw_in is already bit/s.
    # slides has a waiting player but no publisher: not live, left out.
    # bw_out, what goes to the RTMP players, is the bandwidth.
    assert streams == [
        Stream("hls", "http://127.0.0.1/hls/main_hd.m3u8", 3, 2_496_000, "main_hd", 7_488_000),
        Stream("hls", "http://127.0.0.1/hls/main_sd.m3u8", 0, 816_000, "main_sd", 0),
        Stream("hls", "http://127.0.0.1/hls/talkback.m3u8", 1, 128_000, "talkback", 128_000),
    ]


def test_icecast_expected_mount_without_source_is_an_error_naming_it(status_server):
    status_server.routes["/status-json.xsl"] = recording("icecast-several-sources.json")
    source = icecast(status_server, expect=["/main.opus", "hall.mp3", "/gone.mp3"])

    with pytest.raises(Incomplete) as incomplete:
        source.collect()

    assert incomplete.value.reason == "expected mount /hall.mp3 has no source; mount /gone.mp3 has no source"
    assert [s.quality for s in incomplete.value.streams] == ["main", "hd", "backup"]  # the others still play


def test_icecast_expected_mounts_all_there_is_no_error(status_server):
    status_server.routes["/status-json.xsl"] = recording("icecast-one-source.json")

    assert len(icecast(status_server, expect=["/main.mp3"]).collect()) == 1


def test_icecast_no_source_at_all_with_an_expected_mount_is_an_error(status_server):
    status_server.routes["/status-json.xsl"] = recording("icecast-no-source.json")

    with pytest.raises(Incomplete, match=r"^expected mount /main\.mp3 has no source$"):
        icecast(status_server, expect=["/main.mp3"]).collect()


def local_icecast(host: str) -> Answer:
    document = json.loads((RECORDINGS / "icecast-one-source.json").read_bytes())
    document["icestats"]["host"] = host
    return json_answer(200, document)


def test_icecast_localhost_hostname_is_warned_at_start_and_on_change(status_server, agent_log):
    status_server.routes["/status-json.xsl"] = local_icecast("localhost")
    source = icecast(status_server)

    source.collect()
    source.collect()  # unchanged: said once
    status_server.routes["/status-json.xsl"] = local_icecast("stream.example.org")
    source.collect()
    status_server.routes["/status-json.xsl"] = local_icecast("127.0.0.1")
    source.collect()

    warnings = [line for line in agent_log() if "<hostname>" in line]
    assert len(warnings) == 3, warnings
    assert warnings[0].startswith("source icecast: Icecast's <hostname> is localhost, so viewers would be sent to URLs")
    assert "http://localhost:8000/main.mp3" in warnings[0]
    assert warnings[1] == "source icecast: Icecast's <hostname> is now stream.example.org"
    assert "<hostname> is 127.0.0.1" in warnings[2]


def test_icecast_localhost_hostname_is_not_warned_with_a_public_url(status_server, agent_log):
    status_server.routes["/status-json.xsl"] = local_icecast("localhost")

    icecast(status_server, public_url="https://stream.example.org/{mount}").collect()

    assert not [line for line in agent_log() if "<hostname>" in line]


def rtmp_stat(main_sd_bw_in: int = 816000) -> Answer:
    text = (RECORDINGS / "nginx-rtmp-stat.xml").read_text()
    text = text.replace("<bw_in>816000</bw_in>", f"<bw_in>{main_sd_bw_in}</bw_in>")
    return Answer(200, text.encode(), "text/xml")


def test_nginx_rtmp_expected_streams_absent_unpublished_or_silent_are_errors(status_server):
    status_server.routes["/stat"] = rtmp_stat(main_sd_bw_in=0)
    expect = ["live/main_hd", "live/main_sd", "live/slides", "live/gone"]
    source = one_source({"type": "nginx_rtmp", "url": status_server.url + "/stat", "expect": expect})

    with pytest.raises(Incomplete) as incomplete:
        source.collect()

    assert incomplete.value.reason == (
        "expected stream live/main_sd receives 0 bit/s; stream live/slides has no publisher; stream live/gone is absent"
    )
    assert [s.quality for s in incomplete.value.streams] == ["main_hd", "main_sd", "talkback"]


def test_srs_expected_streams_without_publisher_or_missing_are_errors(status_server):
    status_server.routes["/api/v1/streams"] = srs_api
    source = one_source({"type": "srs", "url": status_server.url, "expect": ["live/main_hd", "live/backup", "x/y"]})

    with pytest.raises(Incomplete, match=r"^expected stream live/backup has no publisher; stream x/y is absent$"):
        source.collect()


def test_srs_expected_stream_receiving_nothing_is_an_error(status_server):
    document = json.loads((RECORDINGS / "srs-streams.json").read_bytes())
    document["streams"][0]["kbps"]["recv_30s"] = 0
    status_server.routes["/api/v1/streams"] = json_answer(200, document)
    source = one_source({"type": "srs", "url": status_server.url, "expect": ["live/main_hd"]})

    with pytest.raises(Incomplete, match=r"^expected stream live/main_hd receives 0 bit/s$"):
        source.collect()


def test_nginx_rtmp_application_filter_and_url_template(status_server):
    status_server.routes["/stat"] = recording("nginx-rtmp-stat.xml", "text/xml")
    source = one_source(
        {
            "type": "nginx_rtmp",
            "url": status_server.url + "/stat",
            "applications": ["live"],
            "public_url": "https://cdn.example.org/{app}/{name}/index.m3u8",
            "quality": "{name}",
        }
    )

    assert [s.url for s in source.collect()] == [
        "https://cdn.example.org/live/main_hd/index.m3u8",
        "https://cdn.example.org/live/main_sd/index.m3u8",
    ]


def test_nginx_rtmp_invalid_xml_is_an_error(status_server):
    status_server.routes["/stat"] = Answer(200, b"<rtmp><server>", "text/xml")

    with pytest.raises(SourceError, match="not valid XML"):
        one_source({"type": "nginx_rtmp", "url": status_server.url + "/stat"}).collect()


def test_nginx_rtmp_stat_with_an_entity_bomb_is_refused(status_server):
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><rtmp>&b;</rtmp>'
    status_server.routes["/stat"] = Answer(200, bomb, "text/xml")

    with pytest.raises(SourceError, match="DOCTYPE, refused"):
        one_source({"type": "nginx_rtmp", "url": status_server.url + "/stat"}).collect()


def test_srs_passes_count_and_reads_every_page(status_server):
    status_server.routes["/api/v1/streams"] = srs_api

    streams = one_source({"type": "srs", "url": status_server.url, "count": 10}).collect()

    # 12 streams, 10 per page: both pages read; "backup" has no active publisher.
    assert len(streams) == 11
    assert "backup" not in {s.quality for s in streams}
    queries = [r.path.partition("?")[2] for r in status_server.requests]
    assert queries == ["start=0&count=10", "start=10&count=10"]


def test_srs_clients_exclude_the_publisher_and_kbps_become_bits(status_server):
    status_server.routes["/api/v1/streams"] = srs_api

    streams = one_source({"type": "srs", "url": status_server.url + "/api/v1/streams"}).collect()

    # recv_30s is the bitrate, send_30s the bandwidth.
    assert streams[0] == Stream("hls", "http://127.0.0.1:8080/live/main_hd.m3u8", 0, 2_500_000, "main_hd", 5_000_000)
    assert streams[3] == Stream("hls", "http://127.0.0.1:8080/live/hall2_sd.m3u8", 3, 2_200_000, "hall2_sd", 5_000_000)
    assert len(status_server.requests) == 1  # 12 < the default count of 100: one page


def test_srs_error_code_is_an_error(status_server):
    status_server.routes["/api/v1/streams"] = json_answer(200, {"code": 1061})

    with pytest.raises(SourceError, match="answered code 1061"):
        one_source({"type": "srs", "url": status_server.url}).collect()


def test_source_http_error_names_the_status(status_server):
    status_server.routes["/stat"] = Answer(503, b"busy", "text/plain")

    with pytest.raises(SourceError, match=r"HTTP 503 from http://127\.0\.0\.1:\d+/stat"):
        one_source({"type": "nginx_rtmp", "url": status_server.url + "/stat"}).collect()


def test_source_server_down_is_an_error(status_server):
    url = status_server.url + "/status-json.xsl"
    status_server.close()

    with pytest.raises(SourceError, match="cannot reach"):
        one_source({"type": "icecast", "url": url}).collect()


def media_playlist(sequence: int, *, segments: int = 3, target: int = 2, ended: bool = False) -> Answer:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{target}", f"#EXT-X-MEDIA-SEQUENCE:{sequence}"]
    for number in range(sequence, sequence + segments):
        lines += ["#EXTINF:2.000,", f"segment{number}.ts"]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return Answer(200, "\n".join(lines).encode() + b"\n", "application/vnd.apple.mpegurl")


class FakeClock:
    """Monotonic time the test moves by hand, so a stall needs no real waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_hls_probe_reports_stalled_when_media_sequence_stops(status_server):
    clock = FakeClock()
    probe = one_source({"type": "hls_probe", "url": status_server.url + "/live.m3u8", "stall_after": 3}, clock=clock)
    assert isinstance(probe, HlsProbe)

    # Advancing: a new segment every target duration (2 s).
    for sequence in range(5):
        status_server.routes["/live.m3u8"] = media_playlist(sequence)
        assert [s.format for s in probe.collect()] == ["hls"]
        clock.now += 2
    # Then the encoder stalls and the server keeps serving the last playlist.
    clock.now += 4  # 6 s since the last change: 3 target durations, not more
    assert len(probe.collect()) == 1
    clock.now += 0.5
    with pytest.raises(
        SourceError, match=r"stalled: media sequence stuck at 4 for more than 3 target durations \(6 s\)"
    ):
        probe.collect()
    # It recovers with the next segment.
    status_server.routes["/live.m3u8"] = media_playlist(5)
    assert len(probe.collect()) == 1


def test_hls_probe_event_playlist_advances_by_new_segments(status_server):
    clock = FakeClock()
    probe = one_source({"type": "hls_probe", "url": status_server.url + "/event.m3u8"}, clock=clock)

    # An EVENT playlist keeps media sequence 0 and grows instead.
    for segments in range(1, 6):
        status_server.routes["/event.m3u8"] = media_playlist(0, segments=segments)
        assert len(probe.collect()) == 1  # live, although its media sequence stays 0 for 25 s
        clock.now += 5  # under 3 x 2 s between changes
    # Once it stops growing, it stalls like any other.
    clock.now += 2
    with pytest.raises(SourceError, match="stalled: media sequence stuck at 0"):
        probe.collect()


def test_hls_probe_follows_master_playlist_to_first_variant(status_server):
    status_server.routes["/master.m3u8"] = recording("hls-master.m3u8", "application/vnd.apple.mpegurl")
    status_server.routes["/hd/index.m3u8"] = media_playlist(10)
    probe = one_source(
        {"type": "hls_probe", "url": status_server.url + "/master.m3u8", "public_url": "https://cdn.example.org/m.m3u8"}
    )

    assert probe.collect() == [Stream("hls", "https://cdn.example.org/m.m3u8", 0, 2_628_000, None)]


def test_hls_probe_ended_playlist_is_an_error(status_server):
    status_server.routes["/vod.m3u8"] = media_playlist(0, ended=True)

    with pytest.raises(SourceError, match="ended"):
        one_source({"type": "hls_probe", "url": status_server.url + "/vod.m3u8"}).collect()


def test_hls_probe_not_a_playlist_is_an_error(status_server):
    status_server.routes["/live.m3u8"] = Answer(200, b"<html>404</html>", "text/html")

    with pytest.raises(SourceError, match="no #EXTM3U"):
        one_source({"type": "hls_probe", "url": status_server.url + "/live.m3u8"}).collect()


def test_static_source_reports_configured_streams():
    source = one_source(
        {"type": "static", "streams": [{"format": "dash", "url": "https://cdn.example.org/a.mpd", "quality": "hd"}]}
    )

    assert source.collect() == [Stream("dash", "https://cdn.example.org/a.mpd", 0, 0, "hd")]


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"type": "shoutcast", "url": "http://127.0.0.1/"}, r"sources\[0\]: 'type' must be one of"),
        ({"type": "icecast"}, r"sources\[0\]: 'url' is required"),
        ({"type": "icecast", "url": "ftp://x/"}, "must be an http or https URL"),
        ({"type": "icecast", "url": "http://x/", "pubilc_url": "http://y/"}, "unknown key 'pubilc_url'"),
        ({"type": "srs", "url": "http://x/", "count": 5}, "'count' must be a number from 10"),
        ({"type": "static", "streams": [{"url": "http://x/a.m3u8"}]}, r"streams\[0\]: 'format' is required"),
        ({"type": "static", "streams": [{"format": "flv", "url": "http://x/"}]}, "'format' must be one of"),
    ],
)
def test_source_config_errors_name_the_key(entry, message):
    with pytest.raises(ConfigError, match=message):
        build_sources([entry], timeout=1)


def test_source_names_default_to_type_and_are_numbered():
    entries = [{"type": "static", "streams": [{"format": "hls", "url": "http://x/a.m3u8"}]}] * 2

    assert [s.name for s in build_sources(entries, timeout=1)] == ["static", "static-2"]
