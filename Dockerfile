# One image for every hothot role in docker-compose.yml: emulator, runner (Locust master),
# worker. The command picks the role: `hothot emulate|run|worker ...`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml setup.py README.md ./
COPY globaltable ./globaltable
COPY loadgen ./loadgen
COPY chaos ./chaos
COPY verdict ./verdict
COPY hothot ./hothot
# gcc only while installing: it builds verdict._scan, the verdict's native history reader
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install . grafana-foundation-sdk \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
    && python -c "import verdict._scan"

COPY campaigns ./campaigns
COPY dashboards ./dashboards

RUN useradd --create-home --uid 10001 hothot && mkdir /reports && chown hothot /reports
USER hothot

# 8000-8002 emulator regions, 7999 emulator control + /metrics, 9646 runner metrics,
# 5557 Locust master <- workers (hothot starts no Locust web UI)
EXPOSE 7999 8000 8001 8002 9646 5557
ENTRYPOINT ["hothot"]
CMD ["--help"]
