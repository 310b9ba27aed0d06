# hackathon-bot: `docker build -t hackathon-bot . && docker run -p 3000:3000 --env-file .env hackathon-bot`
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir .
COPY rules ./rules
ENV HOST=0.0.0.0 PORT=3000 RULES_DIR=/app/rules DATABASE_URL=sqlite+aiosqlite:////data/hackathon-bot.db
RUN mkdir -p /data && chown nobody /data
VOLUME /data
EXPOSE 3000
USER nobody
CMD ["bot", "serve"]
