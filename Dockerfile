# Two images built from this repository for docker-compose.yaml:
#   target "emulator": the local Bedrock emulator on a plain Python image;
#   target "airflow":  the official Airflow image of the version the tests run, with this provider.
# tests/unit/test_docker_compose.py checks that docker-compose.yaml and this file agree.

FROM python:3.11-slim AS emulator
WORKDIR /opt/provider
COPY pyproject.toml README.md constraints.txt ./
COPY bedrock_provider ./bedrock_provider
RUN pip install --no-cache-dir -c constraints.txt ".[emulator]"
# demo.seed uploads demo/data to the demo bucket, at the keys dags/_bedrock_demo_config.py names.
COPY demo ./demo
COPY dags/_bedrock_demo_config.py ./dags/
EXPOSE 5055
CMD ["bedrock-emulator", "--host", "0.0.0.0", "--port", "5055"]

FROM apache/airflow:3.3.2-python3.11 AS airflow
COPY --chown=airflow:0 pyproject.toml README.md constraints.txt /opt/provider/
COPY --chown=airflow:0 bedrock_provider /opt/provider/bedrock_provider
# Airflow pinned to the image's own version, so pip never swaps it; plots draws the loss charts.
RUN pip install --no-cache-dir -c /opt/provider/constraints.txt "apache-airflow==3.3.2" "/opt/provider[plots]" \
 && mkdir -p /opt/airflow/config
